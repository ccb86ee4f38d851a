//! Selector paths, and a per-message memo of their lookups shared by every pattern.
//!
//! A detector tests dozens of patterns against one record, and most of them look up the same
//! few properties (`$.eventName`, `$.eventSource`, `$.userIdentity.type`). Every path without a
//! wildcard gets a process-wide id when a pattern is compiled; a [`PathMemo`] remembers what
//! each id resolved to in the current record, so each property is looked up once per record.

use super::ast::Step;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    pub(crate) steps: Box<[Step]>,
    /// Set when the path has no wildcard, so that it selects at most one node.
    id: Option<u32>,
}

impl Path {
    pub(crate) fn new(steps: &[Step]) -> Self {
        let plain = !steps
            .iter()
            .any(|s| matches!(s, Step::AnyKey | Step::AnyIndex));
        Self {
            steps: steps.into(),
            id: plain.then(|| intern(steps)),
        }
    }

    /// Whether `f` holds for any node the path selects in `root`. Wildcards fan out over
    /// one level; a missing key, an index out of range or a step into the wrong type selects
    /// nothing.
    #[inline]
    pub(crate) fn any<'v>(
        &self,
        root: &'v Value,
        memo: Option<&PathMemo<'v>>,
        f: &mut impl FnMut(&'v Value) -> bool,
    ) -> bool {
        match (self.id, memo) {
            (Some(id), Some(memo)) => memo.get(id, root, &self.steps).is_some_and(f),
            _ => any_selected(root, &self.steps, f),
        }
    }
}

fn intern(steps: &[Step]) -> u32 {
    static IDS: OnceLock<Mutex<HashMap<Vec<Step>, u32>>> = OnceLock::new();
    let mut ids = IDS
        .get_or_init(Default::default)
        .lock()
        // The map is only ever inserted into; a panic elsewhere cannot leave it inconsistent.
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    *ids.entry(steps.to_vec()).or_insert(next)
}

/// Lookups already done in one record.
#[derive(Debug, Default)]
pub(crate) struct PathMemo<'v> {
    seen: RefCell<Vec<(u32, Option<&'v Value>)>>,
}

impl<'v> PathMemo<'v> {
    fn get(&self, id: u32, root: &'v Value, steps: &[Step]) -> Option<&'v Value> {
        if let Some(&(_, v)) = self.seen.borrow().iter().find(|(i, _)| *i == id) {
            return v;
        }
        let mut found = None;
        any_selected(root, steps, &mut |v| {
            found = Some(v);
            true
        });
        self.seen.borrow_mut().push((id, found));
        found
    }
}

fn any_selected<'v>(
    mut node: &'v Value,
    path: &[Step],
    f: &mut impl FnMut(&'v Value) -> bool,
) -> bool {
    for (i, step) in path.iter().enumerate() {
        node = match (step, node) {
            (Step::Key(k), Value::Object(m)) => match m.get(k.as_str()) {
                Some(v) => v,
                None => return false,
            },
            (Step::Index(n), Value::Array(a)) => match a.get(*n) {
                Some(v) => v,
                None => return false,
            },
            (Step::AnyKey, Value::Object(m)) => {
                return m.values().any(|v| any_selected(v, &path[i + 1..], f))
            }
            (Step::AnyIndex, Value::Array(a)) => {
                return a.iter().any(|v| any_selected(v, &path[i + 1..], f))
            }
            _ => return false,
        };
    }
    f(node)
}
