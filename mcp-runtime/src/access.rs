//! Who may call a tool, read a resource or get a prompt: the access rule
//! each of them declares, checked by the dispatcher before it runs, and
//! published in listings.

use crate::auth::{AccessDenied, Auth};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// Who may call a tool, read a resource or get a prompt, as data the
/// dispatcher checks before the handler runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRule {
    /// Every one of these scopes is required.
    pub scopes: Vec<Cow<'static, str>>,
    /// At least one of these scopes is required (when non-empty).
    pub any_scope: Vec<Cow<'static, str>>,
    /// Every one of these roles is required.
    pub roles: Vec<Cow<'static, str>>,
    /// Every one of these permissions is required.
    pub permissions: Vec<Cow<'static, str>>,
    /// Client capabilities the handler needs (e.g. `sampling`), checked against
    /// what the client declared.
    pub client_capabilities: Vec<Cow<'static, str>>,
    /// The handler takes the authenticated caller (`&Auth`), so only an
    /// authenticated request can run it.
    pub caller: bool,
    /// Whether a person, a machine client (a client-credentials token), or
    /// either may call.
    pub callers: Callers,
}

/// Who may call, by kind: people signed in, machine clients with a
/// client-credentials token (no user behind them; see
/// [`Auth::is_machine`]), or either.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Callers {
    /// Either (the default).
    #[default]
    Any,
    /// A person signed in: machine clients are refused (403).
    People,
    /// A machine client: tokens with a user behind them are refused (403).
    Machines,
}

impl AccessRule {
    /// Whether only an authenticated caller can run the handler: it declares
    /// scopes, roles or permissions, or takes the caller.
    pub fn needs_caller(&self) -> bool {
        self.caller
            || self.callers != Callers::Any
            || !self.scopes.is_empty()
            || !self.any_scope.is_empty()
            || !self.roles.is_empty()
            || !self.permissions.is_empty()
    }

    /// Checks `caller` against the rule's scopes, roles and permissions.
    pub fn check(&self, caller: Option<&Auth>) -> Result<(), AccessDenied> {
        let Some(auth) = caller else {
            return if self.needs_caller() {
                Err(AccessDenied::Unauthenticated)
            } else {
                Ok(())
            };
        };
        // Checked without building anything first: the refusal, with the
        // names it lacks, is built only when the caller falls short.
        match self.callers {
            Callers::People if auth.is_machine() => return Err(AccessDenied::MachineCaller),
            Callers::Machines if !auth.is_machine() => return Err(AccessDenied::PersonCaller),
            _ => {}
        }
        let granted = self.scopes.iter().all(|s| auth.has_scope(s))
            && (self.any_scope.is_empty() || auth.has_any_scope(&self.any_scope))
            && self.roles.iter().all(|r| auth.has_role(r))
            && self.permissions.iter().all(|p| auth.has_permission(p));
        if granted {
            return Ok(());
        }
        auth.require_scope(self.scopes.as_slice())?;
        auth.require_any_scope(&self.any_scope)?;
        auth.require_role(self.roles.as_slice())?;
        auth.require_permission(self.permissions.as_slice())
    }

    /// One sentence per requirement, for the end of the tool's description.
    pub(crate) fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        let mut say = |label: &str, names: &[Cow<'static, str>]| {
            if !names.is_empty() {
                parts.push(format!("{label}: {}.", names.join(", ")));
            }
        };
        say("Requires scopes", &self.scopes);
        say("Requires one of the scopes", &self.any_scope);
        say("Requires roles", &self.roles);
        say("Requires permissions", &self.permissions);
        match self.callers {
            Callers::Any => {}
            Callers::People => parts.push("Callable by people only, not machine clients.".into()),
            Callers::Machines => parts.push("Callable by machine clients only.".into()),
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The rule as listing metadata.
    pub(crate) fn to_meta(&self) -> Option<Value> {
        let mut meta = Map::new();
        for (key, names) in [
            ("scopes", &self.scopes),
            ("anyScope", &self.any_scope),
            ("roles", &self.roles),
            ("permissions", &self.permissions),
        ] {
            if !names.is_empty() {
                meta.insert(key.into(), json!(names));
            }
        }
        match self.callers {
            Callers::Any => {}
            Callers::People => {
                meta.insert("callers".into(), json!("people"));
            }
            Callers::Machines => {
                meta.insert("callers".into(), json!("machines"));
            }
        }
        (!meta.is_empty()).then_some(Value::Object(meta))
    }
}

/// Key of the listing `_meta` entry that publishes the access rule of a
/// tool, resource, resource template or prompt.
pub const ACCESS_META_KEY: &str = "mcp-runtime/access";
