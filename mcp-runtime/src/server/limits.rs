//! Per-caller rate limits on the MCP endpoint: the server's limit on every
//! request, and each tool's on its calls, as token buckets in the shared
//! state (one budget across the replicas on Redis). A caller is its
//! subject when it signed in, else its client id, else its address
//! (through trusted proxies; an IPv6 /64 as one). Callers the operator
//! trusts (`sub:` or `client:` entries) are not limited.

use crate::auth::Auth;
use crate::auth::rate_limit::{TrustedProxies, budget_holder};
use crate::rate::RateLimit;
use crate::state::Buckets;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The limits a server enforces, and where it counts.
pub(crate) struct CallerLimits {
    /// Every request of one caller.
    pub(crate) default: Option<RateLimit>,
    exempt: Vec<Exempt>,
    trusted: TrustedProxies,
    buckets: Arc<dyn Buckets>,
}

/// A caller the operator trusts: never limited.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exempt {
    Subject(String),
    Client(String),
}

/// What a request may do.
#[derive(Debug)]
pub(crate) enum Verdict {
    Allowed,
    /// Over `limit` (of `tool`, or the server's) until `retry_after`.
    Limited {
        limit: RateLimit,
        tool: Option<String>,
        retry_after: Duration,
    },
    /// The buckets cannot be reached: refused, never let through uncounted.
    Unavailable,
}

impl CallerLimits {
    /// The limits of `default` for every request, not applied to `exempt`
    /// (`sub:SUBJECT` or `client:CLIENT_ID` entries), counting addresses
    /// through `trusted` proxies.
    pub(crate) fn new(
        default: Option<RateLimit>,
        exempt: &[String],
        trusted: TrustedProxies,
        buckets: Arc<dyn Buckets>,
    ) -> Result<Self, String> {
        let exempt = exempt
            .iter()
            .map(|entry| match entry.trim().split_once(':') {
                Some(("sub", subject)) if !subject.is_empty() => {
                    Ok(Exempt::Subject(subject.to_owned()))
                }
                Some(("client", id)) if !id.is_empty() => Ok(Exempt::Client(id.to_owned())),
                _ => Err(format!(
                    "rate-limit exemption `{entry}`: write `sub:SUBJECT` or `client:CLIENT_ID`"
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            default,
            exempt,
            trusted,
            buckets,
        })
    }

    /// Counts one request of `caller` (from `req`), a call of `tool` if it
    /// names one with a limit, against the server's limit and the tool's.
    pub(crate) async fn check(
        &self,
        req: &actix_web::HttpRequest,
        caller: Option<&Auth>,
        tool: Option<(&str, RateLimit)>,
    ) -> Verdict {
        if self.default.is_none() && tool.is_none() {
            return Verdict::Allowed;
        }
        if let Some(caller) = caller
            && self.exempt.iter().any(|exempt| match exempt {
                Exempt::Subject(subject) => *subject == caller.user.user_id,
                Exempt::Client(id) => caller.client_id.as_deref() == Some(id.as_str()),
            })
        {
            return Verdict::Allowed;
        }
        let address = self.trusted.client_address(req);
        let holder = holder(caller, address);
        let limits = self
            .default
            .map(|limit| ("*".to_owned(), limit, None))
            .into_iter()
            .chain(tool.map(|(name, limit)| (format!("tool:{name}"), limit, Some(name))));
        for (scope, limit, tool) in limits {
            let key = format!("{scope}:{holder}");
            match self.buckets.take(&key, limit.count(), limit.period()).await {
                Ok(Ok(())) => {}
                Ok(Err(retry_after)) => {
                    return Verdict::Limited {
                        limit,
                        tool: tool.map(str::to_owned),
                        retry_after,
                    };
                }
                Err(_) => return Verdict::Unavailable,
            }
        }
        Verdict::Allowed
    }
}

/// Whose budget a request counts against, as a fixed-size digest (no
/// subject or address is stored as it is).
fn holder(caller: Option<&Auth>, address: Option<IpAddr>) -> String {
    let who = match (caller, address) {
        (Some(caller), _) if !caller.user.user_id.is_empty() => {
            format!("sub\n{}", caller.owner_key())
        }
        (
            Some(Auth {
                client_id: Some(id),
                ..
            }),
            _,
        ) => format!("client\n{id}"),
        (_, Some(ip)) => format!("ip\n{}", budget_holder(ip)),
        _ => "anonymous".to_owned(),
    };
    crate::operations::fingerprint(&who, 16)
}
