//! The Redis backend (being written): every replica of a server shares its
//! sessions, markers, records and bus through one Redis.

use super::{
    Bus, BusListener, BusMessage, Connect, CreateError, Markers, Records, SessionRecord,
    SessionRecords, StateFuture, Unavailable,
};
use futures_util::future::{BoxFuture, FutureExt as _, ready};
use std::sync::Arc;
use std::time::Duration;

/// Shared state on one Redis server.
pub(crate) struct RedisState;

impl RedisState {
    /// Checks `url` (no I/O yet); keys are prefixed with `namespace`.
    pub(crate) fn new(url: &str, namespace: &str, idle: Duration) -> Result<Self, String> {
        let _ = (namespace, idle);
        Err(format!(
            "the Redis backend is not available in this build ({})",
            super::redacted_url(url)
        ))
    }
}

fn unavailable<'a, T: Send + 'a>() -> StateFuture<'a, T> {
    ready(Err(Unavailable)).boxed()
}

impl SessionRecords for RedisState {
    fn create<'a>(
        &'a self,
        _: &'a str,
        _: &'a SessionRecord,
    ) -> BoxFuture<'a, Result<(), CreateError>> {
        ready(Err(CreateError::Unavailable)).boxed()
    }
    fn load<'a>(&'a self, _: &'a str) -> StateFuture<'a, Option<SessionRecord>> {
        unavailable()
    }
    fn touch<'a>(&'a self, _: &'a str) -> StateFuture<'a, bool> {
        unavailable()
    }
    fn update<'a>(&'a self, _: &'a str, _: &'a SessionRecord) -> StateFuture<'a, bool> {
        unavailable()
    }
    fn remove<'a>(&'a self, _: &'a str) -> StateFuture<'a, bool> {
        unavailable()
    }
    fn subscribe<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: bool,
    ) -> StateFuture<'a, Result<(), usize>> {
        unavailable()
    }
    fn subscribed<'a>(&'a self, _: &'a [Arc<str>], _: &'a str) -> StateFuture<'a, Vec<bool>> {
        unavailable()
    }
}

impl Markers for RedisState {
    fn claim<'a>(&'a self, _: &'a str, _: Duration) -> StateFuture<'a, bool> {
        unavailable()
    }
}

impl Records for RedisState {
    fn put<'a>(&'a self, _: &'a str, _: &'a [u8], _: Duration) -> StateFuture<'a, ()> {
        unavailable()
    }
    fn get<'a>(&'a self, _: &'a str) -> StateFuture<'a, Option<Vec<u8>>> {
        unavailable()
    }
}

impl Bus for RedisState {
    fn publish(&self, _: BusMessage) -> StateFuture<'_, ()> {
        unavailable()
    }
    fn listen(&self, _: BusListener) {}
}

impl Connect for RedisState {
    fn connect(&self) -> BoxFuture<'_, Result<(), String>> {
        ready(Err(
            "the Redis backend is not available in this build".to_owned()
        ))
        .boxed()
    }
}
