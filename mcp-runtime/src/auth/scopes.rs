//! Scope hierarchy: a granted scope may imply others (`admin` implies
//! everything, `tasks` implies `tasks:read`), a server setting.

use std::collections::HashMap;

/// Which scopes imply which. `*` as an implied scope means every scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeHierarchy {
    implies: HashMap<String, Vec<String>>,
}

impl ScopeHierarchy {
    /// No scope implies another.
    pub fn new() -> Self {
        Self::default()
    }

    /// `scope` implies each of `implied` (and, transitively, what they imply).
    pub fn implies<S: Into<String>>(
        mut self,
        scope: impl Into<String>,
        implied: impl IntoIterator<Item = S>,
    ) -> Self {
        self.implies
            .entry(scope.into())
            .or_default()
            .extend(implied.into_iter().map(Into::into));
        self
    }

    /// Whether holding `granted` gives `wanted`.
    pub fn grants<S: AsRef<str>>(&self, granted: &[S], wanted: &str) -> bool {
        // `*` is special only as an implied scope: a token that literally
        // carries `*` gets nothing more for it.
        let mut pending: Vec<(&str, bool)> = granted.iter().map(|s| (s.as_ref(), false)).collect();
        let mut seen: Vec<&str> = Vec::new();
        while let Some((scope, implied)) = pending.pop() {
            if scope == wanted || (implied && scope == "*") {
                return true;
            }
            if seen.contains(&scope) {
                continue;
            }
            seen.push(scope);
            if let Some(more) = self.implies.get(scope) {
                pending.extend(more.iter().map(|s| (s.as_str(), true)));
            }
        }
        false
    }

    /// Whether no scope implies another.
    pub fn is_empty(&self) -> bool {
        self.implies.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implication_is_transitive_and_star_means_everything() {
        let h = ScopeHierarchy::new()
            .implies("admin", ["*"])
            .implies("tasks", ["tasks:read", "tasks:write"])
            .implies("owner", ["tasks"])
            .implies("loop", ["loop"]);
        assert!(h.grants(&["admin"], "anything:at:all"));
        assert!(h.grants(&["owner"], "tasks:read"));
        assert!(h.grants(&["tasks"], "tasks:write"));
        assert!(!h.grants(&["tasks:read"], "tasks"));
        assert!(!h.grants(&["loop"], "other"));
        assert!(!h.grants::<&str>(&[], "x"));
        assert!(
            !h.grants(&["*"], "tasks:read"),
            "a literal `*` in a token grants nothing"
        );
    }
}
