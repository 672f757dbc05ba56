//! Rate limits on the authorization-server endpoints anyone can reach
//! without a token (`/register`, `/authorize`, the consent post, the
//! callback, `/token`): hits per client address per minute, counted in the
//! shared state, so every replica counts against one budget.
//!
//! The client address is the connection's peer, unless that peer is a proxy
//! the operator trusts (`MCP_TRUSTED_PROXIES`, or
//! `McpServerBuilder::trusted_proxies`): then it is the nearest address
//! that is not itself trusted in the one header those proxies write
//! (`X-Forwarded-For` unless `MCP_FORWARDED_HEADER` names `Forwarded`).
//! The other header is never read: a proxy that appends to one passes the
//! other on as the client wrote it. Without trusted proxies neither is
//! read: anyone could write them, and a limit one can step around by
//! writing a header is none.
//!
//! An IPv6 client is counted by its /64, the block one site usually gets:
//! counted address by address, one host would hold billions of budgets.

use crate::state::Counters;
use actix_web::HttpRequest;
use actix_web::http::header;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

/// The default budget: per client address, per endpoint, per minute. A
/// person signing in uses one or two of each.
pub(crate) const DEFAULT_PER_MINUTE: u32 = 60;

/// The window hits are counted over.
const WINDOW: Duration = Duration::from_secs(60);

/// An address or a block of them (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddressBlock {
    network: IpAddr,
    prefix: u8,
}

impl AddressBlock {
    /// Parses `ip` or `ip/prefix`; the error says what was wrong.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (ip, prefix) = match text.split_once('/') {
            Some((ip, prefix)) => (ip, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = ip
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or a CIDR block"))?;
        let most = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => most,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= most)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {most}"))?,
        };
        // An IPv4-mapped block (`::ffff:10.0.0.0/104`) is the IPv4 block it
        // maps, as its addresses are matched: `contains` reads mapped
        // addresses as IPv4.
        if let IpAddr::V6(v6) = network
            && let Some(v4) = v6.to_ipv4_mapped()
        {
            let prefix = prefix.checked_sub(96).ok_or_else(|| {
                format!("`{text}`: an IPv4-mapped block needs a prefix of 96 to 128")
            })?;
            return Ok(Self {
                network: IpAddr::V4(v4),
                prefix,
            });
        }
        Ok(Self { network, prefix })
    }

    /// Whether `ip` is in the block.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => (u128::from(u32::from(v4)), 32),
                    None => (u128::from(v6), 128),
                },
            }
        };
        let ((net, width), (addr, addr_width)) = (bits(self.network), bits(ip));
        if width != addr_width {
            return false;
        }
        // `prefix` is at most `width` for a parsed block; saturating keeps
        // any other a narrow match, never a match of everything.
        let shift = u32::from(width.saturating_sub(self.prefix));
        if shift >= 128 {
            return true;
        }
        (net >> shift) == (addr >> shift)
    }
}

/// What a request may do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    /// Over its budget until this many seconds pass: 429.
    Limited {
        retry_after: u64,
    },
    /// The counters cannot be reached, so nothing is let through uncounted: 503.
    Unavailable,
}

/// Counts hits per client address, per endpoint.
pub(crate) struct RateLimiter {
    counters: Arc<dyn Counters>,
    /// Hits per minute; `0` turns the limit off.
    per_minute: u32,
    trusted: TrustedProxies,
}

impl RateLimiter {
    pub(crate) fn new(
        counters: Arc<dyn Counters>,
        per_minute: u32,
        trusted: TrustedProxies,
    ) -> Self {
        Self {
            counters,
            per_minute,
            trusted,
        }
    }

    /// The client's address: the peer, or through trusted proxies the
    /// nearest forwarded address that is not one of them.
    pub(crate) fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        self.trusted.client_address(req)
    }

    /// Counts this request against its client's budget for `endpoint`.
    pub(crate) async fn check(&self, req: &HttpRequest, endpoint: &str) -> Verdict {
        if self.per_minute == 0 {
            return Verdict::Allowed;
        }
        let Some(ip) = self.client_ip(req) else {
            return Verdict::Allowed;
        };
        let key = format!("rate:{endpoint}:{}", budget_holder(ip));
        match self.counters.hit(&key, WINDOW).await {
            Ok((hits, _)) if hits <= u64::from(self.per_minute) => Verdict::Allowed,
            Ok((_, left)) => {
                tracing::debug!(endpoint, "rate limit: refused a client over its budget");
                Verdict::Limited {
                    retry_after: left.as_secs().max(1),
                }
            }
            Err(_) => Verdict::Unavailable,
        }
    }
}

/// The header trusted proxies name the client in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1` (nginx's
    /// `$proxy_add_x_forwarded_for`, most cloud balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    /// `x-forwarded-for` or `forwarded`, in any case; the error says what
    /// to write.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            t if t.eq_ignore_ascii_case("x-forwarded-for") => Ok(Self::XForwardedFor),
            t if t.eq_ignore_ascii_case("forwarded") => Ok(Self::Forwarded),
            other => Err(format!(
                "forwarded header `{other}`: write `x-forwarded-for` or `forwarded`, the one header your proxies write"
            )),
        }
    }
}

/// The proxies in front of the server, and the one header they name the
/// client in.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies {
    blocks: Vec<AddressBlock>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Parses `blocks` (addresses or CIDR blocks) and `header` (default
    /// `X-Forwarded-For`); the error names the bad entry.
    pub(crate) fn parse<'a>(
        blocks: impl IntoIterator<Item = &'a String>,
        header: Option<&str>,
    ) -> Result<Self, String> {
        let blocks = blocks
            .into_iter()
            .map(|block| AddressBlock::parse(block).map_err(|e| format!("trusted proxies: {e}")))
            .collect::<Result<_, _>>()?;
        let header = header.map(ForwardedHeader::parse).transpose()?;
        Ok(Self {
            blocks,
            header: header.unwrap_or_default(),
        })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|block| block.contains(ip))
    }

    /// The client's address: the peer, or through trusted proxies the
    /// nearest forwarded address that is not one of them.
    pub(crate) fn client_address(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.trusts(peer) {
            return Some(peer);
        }
        // Right to left: each hop appended the address it saw.
        Some(
            forwarded_chain(req, self.header)
                .into_iter()
                .rev()
                .find(|ip| !self.trusts(*ip))
                .unwrap_or(peer),
        )
    }
}

/// Whose budget a request from `ip` counts against: an IPv4 address (an
/// IPv4-mapped IPv6 one included), or an IPv6 /64.
pub(crate) fn budget_holder(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

/// Every address `header` names, in order (its lines joined, as HTTP
/// joins repeated fields); an entry that is not an address (`unknown`, an
/// obfuscated name, an element without `for=`, bytes that are not text)
/// ends the chain, as nothing to its left can be trusted.
fn forwarded_chain(req: &HttpRequest, header: ForwardedHeader) -> Vec<IpAddr> {
    let mut chain = Vec::new();
    let name = match header {
        ForwardedHeader::XForwardedFor => header::HeaderName::from_static("x-forwarded-for"),
        ForwardedHeader::Forwarded => header::FORWARDED,
    };
    for value in req.headers().get_all(name) {
        // Split before decoding: a byte that is not text in the client's
        // part must not take the proxy's part of the same line with it.
        for element in value.as_bytes().split(|b| *b == b',') {
            let Ok(element) = std::str::from_utf8(element) else {
                chain.push(None);
                continue;
            };
            let address = match header {
                ForwardedHeader::XForwardedFor => Some(element.trim()),
                ForwardedHeader::Forwarded => element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| value.trim().trim_matches('"'))
                }),
            };
            chain.push(address.and_then(parse_forwarded_ip));
        }
    }
    // Entries right of an unparsable one are the ones still trustworthy.
    let cut = chain.iter().rposition(Option::is_none).map_or(0, |i| i + 1);
    chain.into_iter().skip(cut).flatten().collect()
}

/// `1.2.3.4`, `1.2.3.4:5678`, `[::1]`, `[::1]:5678` or `::1`.
fn parse_forwarded_ip(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    entry.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::SharedState;
    use actix_web::test::TestRequest;

    fn limiter(per_minute: u32, trusted: &[&str]) -> RateLimiter {
        limiter_reading(per_minute, trusted, None)
    }

    fn limiter_reading(per_minute: u32, trusted: &[&str], header: Option<&str>) -> RateLimiter {
        let state = SharedState::memory(Duration::from_secs(60), 10);
        let trusted: Vec<String> = trusted.iter().map(|t| (*t).to_owned()).collect();
        RateLimiter::new(
            state.counters,
            per_minute,
            TrustedProxies::parse(&trusted, header).unwrap(),
        )
    }

    fn from(peer: &str) -> TestRequest {
        TestRequest::default().peer_addr(peer.parse().unwrap())
    }

    #[test]
    fn blocks_parse_and_match() {
        let block = AddressBlock::parse("10.1.0.0/16").unwrap();
        assert!(block.contains("10.1.200.3".parse().unwrap()));
        assert!(!block.contains("10.2.0.1".parse().unwrap()));
        assert!(
            block.contains("::ffff:10.1.0.9".parse().unwrap()),
            "mapped v4"
        );
        let one = AddressBlock::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(
            AddressBlock::parse("::/0")
                .unwrap()
                .contains("fd00::1".parse().unwrap())
        );
        assert!(
            AddressBlock::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in ["", "10.0.0.0/33", "::1/129", "example.com", "10.0.0.0/x"] {
            assert!(AddressBlock::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_headers_count_only_behind_a_trusted_proxy() {
        let open = limiter(10, &[]);
        let spoofed = from("203.0.113.7:4000")
            .insert_header(("x-forwarded-for", "1.1.1.1"))
            .to_http_request();
        assert_eq!(
            open.client_ip(&spoofed),
            Some("203.0.113.7".parse().unwrap())
        );

        let behind = limiter(10, &["127.0.0.1", "10.0.0.0/8"]);
        let req = from("127.0.0.1:4000")
            .insert_header(("x-forwarded-for", "6.6.6.6, 198.51.100.4, 10.0.0.2"))
            .to_http_request();
        assert_eq!(
            behind.client_ip(&req),
            Some("198.51.100.4".parse().unwrap()),
            "the nearest untrusted hop, not the leftmost (which the client wrote)"
        );
        let req = from("127.0.0.1:4000")
            .insert_header(("x-forwarded-for", "198.51.100.4, garbage, 10.0.0.3"))
            .to_http_request();
        assert_eq!(
            behind.client_ip(&req),
            Some("127.0.0.1".parse().unwrap()),
            "nothing left of an unreadable entry is believed"
        );
    }

    #[test]
    fn ipv4_mapped_blocks_are_the_ipv4_blocks_they_map() {
        let block = AddressBlock::parse("::ffff:10.0.0.0/104").unwrap();
        assert_eq!(block, AddressBlock::parse("10.0.0.0/8").unwrap());
        assert!(block.contains("10.1.2.3".parse().unwrap()));
        assert!(block.contains("::ffff:10.1.2.3".parse().unwrap()));
        for outside in ["169.254.169.254", "127.0.0.1", "11.0.0.1"] {
            assert!(!block.contains(outside.parse().unwrap()), "{outside}");
        }
        assert!(AddressBlock::parse("::ffff:10.0.0.0/64").is_err());
        let one = AddressBlock::parse("::ffff:127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
    }

    #[test]
    fn only_the_header_the_proxies_write_is_read() {
        // A proxy that appends to X-Forwarded-For passes a client's own
        // `Forwarded` on untouched: read, it would name any address.
        let behind = limiter(10, &["127.0.0.1"]);
        let req = from("127.0.0.1:4000")
            .insert_header(("forwarded", "for=6.6.6.6"))
            .insert_header(("x-forwarded-for", "198.51.100.4"))
            .to_http_request();
        assert_eq!(
            behind.client_ip(&req),
            Some("198.51.100.4".parse().unwrap())
        );
        let only_forwarded = from("127.0.0.1:4000")
            .insert_header(("forwarded", "for=6.6.6.6"))
            .to_http_request();
        assert_eq!(
            behind.client_ip(&only_forwarded),
            Some("127.0.0.1".parse().unwrap()),
            "a header the proxies do not write names no one"
        );

        // And the other way round, for proxies writing RFC 7239.
        let behind = limiter_reading(10, &["127.0.0.1", "10.0.0.0/8"], Some("Forwarded"));
        let req = from("127.0.0.1:4000")
            .insert_header(("x-forwarded-for", "6.6.6.6"))
            .insert_header((
                "forwarded",
                "for=1.1.1.1, for=\"[2001:db8::5]:443\";proto=https, For=10.0.0.2",
            ))
            .to_http_request();
        assert_eq!(behind.client_ip(&req), Some("2001:db8::5".parse().unwrap()));
        let req = from("127.0.0.1:4000")
            .insert_header(("forwarded", "for=198.51.100.4, proto=https, for=10.0.0.2"))
            .to_http_request();
        assert_eq!(
            behind.client_ip(&req),
            Some("127.0.0.1".parse().unwrap()),
            "an element without `for=` ends the chain"
        );
        let req = from("127.0.0.1:4000")
            .insert_header(("forwarded", "for=_hidden, for=198.51.100.4"))
            .to_http_request();
        assert_eq!(
            behind.client_ip(&req),
            Some("198.51.100.4".parse().unwrap())
        );

        // A byte that is not text in the client's part of the line leaves
        // the part the proxy appended readable.
        let behind = limiter(10, &["127.0.0.1"]);
        let req = from("127.0.0.1:4000")
            .insert_header((
                "x-forwarded-for",
                actix_web::http::header::HeaderValue::from_bytes(b"\x80, 198.51.100.4").unwrap(),
            ))
            .to_http_request();
        assert_eq!(
            behind.client_ip(&req),
            Some("198.51.100.4".parse().unwrap())
        );

        assert!(ForwardedHeader::parse("X-Real-IP").is_err());
        assert_eq!(
            ForwardedHeader::parse(" X-Forwarded-For "),
            Ok(ForwardedHeader::XForwardedFor)
        );
    }

    #[actix_web::test]
    async fn a_client_over_its_budget_gets_429_and_others_do_not() {
        let limiter = limiter(3, &[]);
        let alice = from("192.0.2.1:1").to_http_request();
        let bob = from("192.0.2.2:1").to_http_request();
        for _ in 0..3 {
            assert!(matches!(
                limiter.check(&alice, "register").await,
                Verdict::Allowed
            ));
        }
        let Verdict::Limited { retry_after } = limiter.check(&alice, "register").await else {
            panic!("the fourth hit in a minute passed");
        };
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert!(
            matches!(limiter.check(&alice, "token").await, Verdict::Allowed),
            "per endpoint"
        );
        assert!(
            matches!(limiter.check(&bob, "register").await, Verdict::Allowed),
            "per address"
        );
        // One IPv6 /64 is one budget, whichever of its addresses asks.
        let limiter = self::limiter(2, &[]);
        for peer in ["[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff::9]:1"] {
            let request = from(peer).to_http_request();
            assert!(matches!(
                limiter.check(&request, "register").await,
                Verdict::Allowed
            ));
        }
        let same_site = from("[2001:db8:1:2:abcd::1]:1").to_http_request();
        assert!(matches!(
            limiter.check(&same_site, "register").await,
            Verdict::Limited { .. }
        ));
        let next_site = from("[2001:db8:1:3::1]:1").to_http_request();
        assert!(matches!(
            limiter.check(&next_site, "register").await,
            Verdict::Allowed
        ));
        assert_eq!(
            budget_holder("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
        let off = self::limiter(0, &[]);
        for _ in 0..10 {
            assert!(matches!(
                off.check(&alice, "register").await,
                Verdict::Allowed
            ));
        }
    }
}
