//! Errors for filter patterns that CloudWatch Logs would refuse.

use std::fmt;

/// A filter pattern that cannot be used, with the byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// Byte offset into the pattern text where the problem was found.
    pub offset: usize,
    /// What was wrong, phrased as what was expected where possible.
    pub message: String,
}

impl PatternError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }

    /// The pattern with a caret under the offending byte, for terminal output.
    pub fn caret(&self, pattern: &str) -> String {
        // Show the line the offset falls in; patterns are normally one line.
        let start = pattern[..self.offset.min(pattern.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = pattern[start..]
            .find('\n')
            .map_or(pattern.len(), |i| start + i);
        let line = &pattern[start..end];
        let col = pattern[start..self.offset.min(end)].chars().count();
        format!("  {line}\n  {}^", " ".repeat(col))
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid filter pattern at byte {}: {}",
            self.offset, self.message
        )
    }
}

impl std::error::Error for PatternError {}
