//! The resources and templates a server serves, validated once.

use super::descriptor::{Common, Resource, ResourceTemplate};
use crate::tools::AccessRule;
use serde_json::Value;
use std::collections::HashMap;

/// Resources by URI and templates, in registration order.
#[derive(Default)]
pub(crate) struct ResourceRegistry {
    pub(crate) resources: Vec<Resource>,
    by_uri: HashMap<String, usize>,
    pub(crate) templates: Vec<ResourceTemplate>,
}

/// What a URI resolved to.
pub(crate) struct Found<'a> {
    pub(crate) common: &'a Common,
    pub(crate) params: HashMap<String, String>,
}

impl ResourceRegistry {
    /// Validates every resource and template, reporting every problem.
    pub(crate) fn new(
        resources: Vec<Resource>,
        templates: Vec<ResourceTemplate>,
    ) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut by_uri = HashMap::new();
        for (i, resource) in resources.iter().enumerate() {
            if resource.uri.is_empty() {
                errors.push("a resource has an empty URI".to_owned());
            }
            if by_uri.insert(resource.uri.to_string(), i).is_some() {
                errors.push(format!("two resources have the URI `{}`", resource.uri));
            }
        }
        let mut seen = Vec::new();
        for template in &templates {
            match &template.template {
                Err(why) => errors.push(why.clone()),
                Ok(parsed) => {
                    for param in template.completers.keys() {
                        if !parsed.variables().any(|v| v == param) {
                            errors.push(format!(
                                "URI template `{}` completes `{param}`, which is not one of its variables",
                                template.raw
                            ));
                        }
                    }
                }
            }
            if seen.contains(&template.raw) {
                errors.push(format!("two resource templates are `{}`", template.raw));
            }
            seen.push(template.raw.clone());
        }
        if errors.is_empty() {
            Ok(Self {
                resources,
                by_uri,
                templates,
            })
        } else {
            Err(errors)
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.templates.is_empty()
    }

    /// The resource at `uri`: a fixed one first, else the first matching template.
    pub(crate) fn find(&self, uri: &str) -> Option<Found<'_>> {
        if let Some(&i) = self.by_uri.get(uri) {
            return Some(Found {
                common: &self.resources[i].common,
                params: HashMap::new(),
            });
        }
        self.templates.iter().find_map(|t| {
            let params = t.template.as_ref().ok()?.matches(uri)?;
            Some(Found {
                common: &t.common,
                params,
            })
        })
    }

    /// The access rule guarding `uri`, if it names a resource.
    pub(crate) fn access_for(&self, uri: &str) -> Option<&AccessRule> {
        self.find(uri).map(|f| &f.common.access)
    }

    /// The template written as `raw`.
    pub(crate) fn template(&self, raw: &str) -> Option<&ResourceTemplate> {
        self.templates.iter().find(|t| t.raw == raw)
    }

    /// `resources/list` entries the filter keeps.
    pub(crate) fn listing(&self, keep: impl Fn(&AccessRule) -> bool) -> Vec<Value> {
        self.resources
            .iter()
            .filter(|r| keep(&r.common.access))
            .map(Resource::to_listing)
            .collect()
    }

    /// `resources/templates/list` entries the filter keeps.
    pub(crate) fn template_listing(&self, keep: impl Fn(&AccessRule) -> bool) -> Vec<Value> {
        self.templates
            .iter()
            .filter(|t| keep(&t.common.access))
            .map(ResourceTemplate::to_listing)
            .collect()
    }

    /// Every access rule, for the build-time checks.
    pub(crate) fn rules(&self) -> impl Iterator<Item = (String, &AccessRule)> {
        let fixed = self
            .resources
            .iter()
            .map(|r| (format!("resource {}", r.uri), &r.common.access));
        let templates = self
            .templates
            .iter()
            .map(|t| (format!("resource template {}", t.raw), &t.common.access));
        fixed.chain(templates)
    }
}
