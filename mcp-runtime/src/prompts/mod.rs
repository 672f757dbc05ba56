//! Prompts: descriptors, messages and the registry.

mod descriptor;

pub use crate::protocol::Role;
pub use descriptor::{
    GetPromptResult, IntoPrompt, IntoPromptResult, Prompt, PromptArgument, PromptError,
    PromptFuture, PromptHandler, PromptMessage, PromptRequest,
};

use crate::access::AccessRule;
use crate::paging;
use crate::protocol::ErrorObject;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Prompts by name, in registration order.
#[derive(Default)]
pub(crate) struct PromptRegistry {
    prompts: Vec<Prompt>,
    by_name: HashMap<String, usize>,
}

impl PromptRegistry {
    /// Validates every prompt, reporting every problem.
    pub(crate) fn new(prompts: Vec<Prompt>) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut by_name = HashMap::new();
        for (i, prompt) in prompts.iter().enumerate() {
            if prompt.name.is_empty() {
                errors.push("a prompt has an empty name".to_owned());
            }
            if by_name.insert(prompt.name.to_string(), i).is_some() {
                errors.push(format!("two prompts are named `{}`", prompt.name));
            }
            let mut seen = Vec::new();
            for argument in &prompt.arguments {
                if seen.contains(&&argument.name) {
                    errors.push(format!(
                        "prompt `{}` declares the argument `{}` twice",
                        prompt.name, argument.name
                    ));
                }
                seen.push(&argument.name);
            }
            for name in prompt.completers.keys() {
                if !prompt.arguments.iter().any(|a| &a.name == name) {
                    errors.push(format!(
                        "prompt `{}` completes `{name}`, which is not one of its arguments",
                        prompt.name
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(Self { prompts, by_name })
        } else {
            Err(errors)
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    /// A copy with `prompt` added, validated like the ones given to `new`.
    pub(crate) fn with_prompt(&self, prompt: Prompt) -> Result<Self, Vec<String>> {
        let mut prompts = self.prompts.clone();
        prompts.push(prompt);
        Self::new(prompts)
    }

    /// A copy without the prompt called `name`; `None` if there is none.
    pub(crate) fn without(&self, name: &str) -> Option<Self> {
        self.by_name.get(name)?;
        let prompts = self
            .prompts
            .iter()
            .filter(|p| p.name != name)
            .cloned()
            .collect();
        Self::new(prompts).ok()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Prompt> {
        self.by_name.get(name).map(|&i| &self.prompts[i])
    }

    /// One `prompts/list` page: the prompts `keep` lets through, from
    /// `cursor` on, at most `size` of them, with the next page's cursor.
    pub(crate) fn list_page(
        &self,
        cursor: Option<&str>,
        size: usize,
        keep: impl Fn(&AccessRule) -> bool,
    ) -> Result<Value, ErrorObject> {
        let (page, next) =
            paging::page("prompts", &self.prompts, cursor, size, |p| keep(&p.access))?;
        let listed: Vec<Value> = page.into_iter().map(Prompt::to_listing).collect();
        Ok(paging::with_next(json!({ "prompts": listed }), next))
    }

    /// Every access rule, for the build-time checks.
    pub(crate) fn rules(&self) -> impl Iterator<Item = (String, &AccessRule)> {
        self.prompts
            .iter()
            .map(|p| (format!("prompt {}", p.name), &p.access))
    }
}
