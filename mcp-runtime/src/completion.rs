//! `completion/complete`: suggestions for prompt arguments and
//! resource-template parameters.

use std::collections::HashMap;
use std::sync::Arc;

/// Most values one completion answer carries (the spec's limit).
pub const MAX_COMPLETION_VALUES: usize = 100;

/// What the client is completing.
#[derive(Debug, Clone, Default)]
pub struct CompletionRequest {
    /// The argument or template parameter being completed.
    pub argument: String,
    /// What the user typed so far.
    pub value: String,
    /// Values of the other arguments already chosen.
    pub context: HashMap<String, String>,
}

/// A completion function: the request in, suggestions out.
pub type Completer = Arc<dyn Fn(&CompletionRequest) -> Vec<String> + Send + Sync>;

/// Suggests the `candidates` that start with what the user typed.
pub fn prefix_matches<S: AsRef<str>>(
    candidates: impl IntoIterator<Item = S>,
    request: &CompletionRequest,
) -> Vec<String> {
    candidates
        .into_iter()
        .filter(|c| c.as_ref().starts_with(&request.value))
        .map(|c| c.as_ref().to_owned())
        .collect()
}
