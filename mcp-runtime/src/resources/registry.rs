//! The resources and templates a server serves, validated once.

use super::descriptor::{Common, Resource, ResourceTemplate};
use crate::access::AccessRule;
use crate::paging;
use crate::protocol::ErrorObject;
use serde_json::{Value, json};
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

    /// A copy with `resource` added, validated like the ones given to `new`.
    pub(crate) fn with_resource(&self, resource: Resource) -> Result<Self, Vec<String>> {
        let mut resources = self.resources.clone();
        resources.push(resource);
        Self::new(resources, self.templates.clone())
    }

    /// A copy with `template` added, validated like the ones given to `new`.
    pub(crate) fn with_template(&self, template: ResourceTemplate) -> Result<Self, Vec<String>> {
        let mut templates = self.templates.clone();
        templates.push(template);
        Self::new(self.resources.clone(), templates)
    }

    /// A copy without the resource at `uri` or the template written `uri`;
    /// `None` if there is neither.
    pub(crate) fn without(&self, uri: &str) -> Option<Self> {
        let resources: Vec<Resource> = self
            .resources
            .iter()
            .filter(|r| r.uri != uri)
            .cloned()
            .collect();
        let templates: Vec<ResourceTemplate> = self
            .templates
            .iter()
            .filter(|t| t.raw != uri)
            .cloned()
            .collect();
        if resources.len() == self.resources.len() && templates.len() == self.templates.len() {
            return None;
        }
        Self::new(resources, templates).ok()
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

    /// One `resources/list` page: the resources `keep` lets through, from
    /// `cursor` on, at most `size` of them, with the next page's cursor.
    pub(crate) fn list_page(
        &self,
        cursor: Option<&str>,
        size: usize,
        keep: impl Fn(&AccessRule) -> bool,
    ) -> Result<Value, ErrorObject> {
        let (page, next) = paging::page("resources", &self.resources, cursor, size, |r| {
            keep(&r.common.access)
        })?;
        let listed: Vec<Value> = page.into_iter().map(Resource::to_listing).collect();
        Ok(paging::with_next(json!({ "resources": listed }), next))
    }

    /// One `resources/templates/list` page, like [`list_page`](Self::list_page).
    pub(crate) fn template_page(
        &self,
        cursor: Option<&str>,
        size: usize,
        keep: impl Fn(&AccessRule) -> bool,
    ) -> Result<Value, ErrorObject> {
        let (page, next) = paging::page("templates", &self.templates, cursor, size, |t| {
            keep(&t.common.access)
        })?;
        let listed: Vec<Value> = page.into_iter().map(ResourceTemplate::to_listing).collect();
        Ok(paging::with_next(
            json!({ "resourceTemplates": listed }),
            next,
        ))
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
