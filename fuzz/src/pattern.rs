//! Arbitrary patterns against arbitrary messages: parsing and matching must never panic.

use iamwatch::pattern::{FilterPattern, Message};

/// One input of the target.
pub fn run(data: &[u8]) {
    // The first line is the pattern, the rest are messages.
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let Some(pattern) = lines.next() else { return };
    let pattern = match FilterPattern::new(pattern) {
        Ok(p) => p,
        Err(e) => {
            assert!(e.offset <= pattern.len());
            let _ = e.caret(pattern);
            return;
        }
    };
    for message in lines {
        let matched = pattern.matches_text(message);
        assert_eq!(pattern.test(message).is_some(), matched);
        if let Ok(record) = serde_json::from_str::<serde_json::Value>(message) {
            let _ = pattern.matches(&Message::from_json(&record));
        }
    }
}
