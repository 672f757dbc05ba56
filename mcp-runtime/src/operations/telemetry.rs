//! Traces: one `tracing` span per MCP request (`mcp.request`, named after
//! the OpenTelemetry conventions for MCP: `tools/call search`), with the
//! method, target, session, revision, outcome and the verified caller
//! (subject and client id, never the token); child spans for the token's
//! verification, the access decision, the handler, and calls out (the JWK
//! set, the provider's token endpoint).
//!
//! With the `otel` feature, [`init_tracing`] also exports them over
//! OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`OTEL_SERVICE_NAME`
//! names the service; `OTEL_EXPORTER_OTLP_PROTOCOL` is `http/protobuf`, the
//! default, or `http/json`), and continues the caller's W3C trace context:
//! the `traceparent` header, else `_meta.traceparent` (the 2026-07-28
//! convention).

/// Sets the process's `tracing` subscriber: log lines filtered by
/// `RUST_LOG` (default `info`) and, with the `otel` feature and
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans exported over OTLP. Keep the
/// guard for the life of the process: dropping it flushes the spans not
/// yet sent. Call it once, first thing in `main`; [`Tracing`] sets the
/// same in code.
///
/// # Errors
/// When a subscriber is already set, or the exporter cannot be built.
pub fn init_tracing() -> Result<TracingGuard, String> {
    Tracing::from_env().init()
}

/// The tracing settings, from the environment ([`Tracing::from_env`]) and
/// code:
///
/// ```no_run
/// # fn main() -> Result<(), String> {
/// let _tracing = mcp_runtime::operations::Tracing::from_env()
///     .otlp_endpoint("http://collector:4318")
///     .service_name("search-mcp")
///     .init()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "settings do nothing until `init`"]
pub struct Tracing {
    otlp_endpoint: Option<String>,
    service_name: Option<String>,
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    json: bool,
}

impl Tracing {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME` and
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default, or
    /// `http/json`).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            otlp_endpoint: var("OTEL_EXPORTER_OTLP_ENDPOINT"),
            service_name: var("OTEL_SERVICE_NAME"),
            json: var("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() == Some("http/json"),
        }
    }

    /// Exports spans over OTLP/HTTP to `endpoint` (the collector's base
    /// URL; `/v1/traces` is added). Needs the `otel` feature: without it,
    /// [`init`](Self::init) says so.
    pub fn otlp_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.otlp_endpoint = Some(endpoint.into());
        self
    }

    /// The service name the spans carry (default `mcp-server`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sets the process's subscriber (see [`init_tracing`]).
    ///
    /// # Errors
    /// When a subscriber is already set, the exporter cannot be built, or
    /// an endpoint is set without the `otel` feature.
    pub fn init(self) -> Result<TracingGuard, String> {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        // Lines are written by a thread of their own (`lines`): a request
        // appends its line and goes on. The guard writes what is left at
        // exit.
        let (writer, lines) = super::lines::start(std::io::stderr())
            .map_err(|e| format!("cannot start the log writer's thread: {e}"))?;
        // Log lines are events (and `enabled!` hints): the runtime's spans go
        // to the exporter only, so logging alone never pays for them
        // (formatting every field of every request's span cost as much as
        // the request).
        let events =
            tracing_subscriber::filter::filter_fn(|meta: &tracing::Metadata<'_>| !meta.is_span());
        let registry = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_writer(writer)
                .with_filter(tracing_subscriber::filter::FilterExt::and(filter, events)),
        );
        #[cfg(feature = "otel")]
        if let Some(endpoint) = &self.otlp_endpoint {
            let provider = otel::provider(endpoint, self.service_name.as_deref(), self.json)?;
            let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "mcp-runtime");
            let tracer_for_late_spans = tracer.clone();
            // The runtime's spans at `debug`, the request's children
            // included, whatever `RUST_LOG` shows of the logs. Spans start
            // when they end or get a child, not when entered: a request's
            // trace can still be continued from its body once it was.
            let spans = tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_context_activation(false)
                .with_filter(
                    tracing_subscriber::filter::Targets::new()
                        .with_target("mcp_runtime", tracing::Level::DEBUG),
                );
            registry.with(spans).try_init().map_err(|e| e.to_string())?;
            // Only once these spans are the process's: an exporter whose
            // subscriber was refused must not export the verification spans.
            let _ = otel::TRACER.set(tracer_for_late_spans);
            return Ok(TracingGuard {
                provider: Some(provider),
                _lines: lines,
            });
        }
        #[cfg(not(feature = "otel"))]
        if self.otlp_endpoint.is_some() {
            return Err(
                "an OTLP endpoint is set, but mcp-runtime was built without its `otel` feature"
                    .to_owned(),
            );
        }
        registry.try_init().map_err(|e| e.to_string())?;
        Ok(TracingGuard {
            #[cfg(feature = "otel")]
            provider: None,
            _lines: lines,
        })
    }
}

/// Flushes the spans not yet exported when dropped.
#[must_use = "dropping the guard flushes and stops the exporter"]
pub struct TracingGuard {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
    /// The log writer's thread: dropping it writes what is left.
    _lines: super::lines::LinesGuard,
}

impl std::fmt::Debug for TracingGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracingGuard").finish_non_exhaustive()
    }
}

impl Drop for TracingGuard {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// The span of one MCP request; its fields are recorded as they become
/// known.
pub(crate) fn request_span() -> tracing::Span {
    use tracing::field::Empty;
    tracing::info_span!(
        "mcp.request",
        otel.name = Empty,
        otel.kind = "server",
        mcp.method.name = Empty,
        mcp.protocol.version = Empty,
        mcp.session.id = Empty,
        jsonrpc.request.id = Empty,
        gen_ai.tool.name = Empty,
        mcp.resource.uri = Empty,
        enduser.id = Empty,
        oauth.client_id = Empty,
        error.type = Empty,
        rpc.response.status_code = Empty,
    )
}

/// Names the request `span` after its method and target, as the
/// OpenTelemetry conventions for MCP do (`tools/call search`), and records
/// its method. A span already exported under its first name (one with
/// children started) is renamed too.
pub(crate) fn name_request(span: &tracing::Span, method: &'static str, target: Option<&str>) {
    span.record("mcp.method.name", method);
    let name = match target {
        Some(target) => format!("{method} {target}"),
        None => method.to_owned(),
    };
    span.record("otel.name", name.as_str());
    #[cfg(feature = "otel")]
    {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        span.context().span().update_name(name);
    }
}

/// A token verification run before its request's trace was known (a POST
/// whose trace may be named in its body's `_meta`): a span made then would
/// fix the request's trace too early, so the verification is timed, and
/// joins the trace with [`add_to`](Self::add_to) once the request is done.
pub(crate) struct EarlyVerify {
    #[cfg_attr(
        not(feature = "otel"),
        allow(dead_code, reason = "only exported spans have times")
    )]
    started: std::time::SystemTime,
    #[cfg_attr(
        not(feature = "otel"),
        allow(dead_code, reason = "only exported spans have times")
    )]
    ended: std::time::SystemTime,
    /// Whether the verified-token cache had the token; `None` when no
    /// verification ran (no cache, or no token).
    pub(crate) cache_hit: Option<bool>,
}

impl EarlyVerify {
    /// Starts timing.
    pub(crate) fn begin() -> Self {
        let now = std::time::SystemTime::now();
        Self {
            started: now,
            ended: now,
            cache_hit: None,
        }
    }

    /// Stops timing.
    pub(crate) fn finish(&mut self) {
        self.ended = std::time::SystemTime::now();
    }

    /// Adds the verification to `request`'s trace as its
    /// `mcp.auth.verify` child, with the times it ran when spans are
    /// exported.
    pub(crate) fn add_to(self, request: &tracing::Span) {
        let Some(hit) = self.cache_hit else { return };
        #[cfg(feature = "otel")]
        if let Some(tracer) = otel::TRACER.get() {
            otel::add_child(
                tracer,
                request,
                "mcp.auth.verify",
                (self.started, self.ended),
                hit,
            );
            return;
        }
        // Another subscriber: the span, without its times.
        tracing::debug_span!(parent: request, "mcp.auth.verify", cache.hit = hit).in_scope(|| {});
    }
}

/// Continues the caller's trace in `span` from a W3C `traceparent` (and
/// `tracestate`), when the `otel` feature exports spans; a malformed one is
/// ignored (the span starts a trace of its own).
#[cfg_attr(not(feature = "otel"), allow(unused_variables))]
pub(crate) fn continue_trace(span: &tracing::Span, traceparent: &str, tracestate: Option<&str>) {
    #[cfg(feature = "otel")]
    otel::continue_trace(span, traceparent, tracestate);
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::propagation::TextMapPropagator as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    pub(super) fn provider(
        endpoint: &str,
        service: Option<&str>,
        json: bool,
    ) -> Result<opentelemetry_sdk::trace::SdkTracerProvider, String> {
        use opentelemetry_otlp::{Protocol, WithExportConfig as _};
        if let Ok(other) = std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL")
            && !matches!(other.as_str(), "http/json" | "http/protobuf" | "")
        {
            return Err(format!(
                "OTEL_EXPORTER_OTLP_PROTOCOL `{other}` is not served: use http/protobuf or http/json"
            ));
        }
        let protocol = if json {
            Protocol::HttpJson
        } else {
            Protocol::HttpBinary
        };
        let traces = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_endpoint(traces)
            .build()
            .map_err(|e| format!("the OTLP exporter: {e}"))?;
        Ok(opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name(service.unwrap_or("mcp-server").to_owned())
                    .build(),
            )
            .build())
    }

    /// The tracer spans are exported with, once [`Tracing::init`](super::Tracing::init) made it.
    pub(super) static TRACER: std::sync::OnceLock<opentelemetry_sdk::trace::SdkTracer> =
        std::sync::OnceLock::new();

    /// Exports `name`, from `started` to now, as a child of `parent`.
    pub(super) fn add_child(
        tracer: &opentelemetry_sdk::trace::SdkTracer,
        parent: &tracing::Span,
        name: &'static str,
        (started, ended): (std::time::SystemTime, std::time::SystemTime),
        cache_hit: bool,
    ) {
        use opentelemetry::trace::{Span as _, Tracer as _};
        let mut span = tracer
            .span_builder(name)
            .with_start_time(started)
            .with_attributes([opentelemetry::KeyValue::new("cache.hit", cache_hit)])
            .start_with_context(tracer, &parent.context());
        span.end_with_timestamp(ended);
    }

    pub(super) fn continue_trace(
        span: &tracing::Span,
        traceparent: &str,
        tracestate: Option<&str>,
    ) {
        let mut carrier = std::collections::HashMap::new();
        carrier.insert("traceparent".to_owned(), traceparent.to_owned());
        if let Some(state) = tracestate {
            carrier.insert("tracestate".to_owned(), state.to_owned());
        }
        let parent =
            opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
        let _ = span.set_parent(parent);
    }
}
