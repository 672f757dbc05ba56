//! Resources: fixed URIs and URI templates, their descriptors and registry.

mod descriptor;
mod registry;
mod template;

pub use descriptor::{
    Blob, IntoReadResult, IntoResource, IntoResourceTemplate, ReadOutcome, Resource, ResourceError,
    ResourceFuture, ResourceHandler, ResourceRequest, ResourceTemplate,
};
pub(crate) use registry::ResourceRegistry;
pub use template::UriTemplate;
