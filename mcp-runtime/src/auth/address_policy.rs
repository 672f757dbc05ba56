//! Which addresses a fetch of a URL someone else chose may reach.
//!
//! A client metadata document's URL is the client's own `client_id`: anyone
//! can make this server fetch it. Left alone, that makes the server a way
//! into the network behind it (server-side request forgery): cloud metadata
//! services on link-local addresses, admin ports on loopback, hosts on
//! private networks. So such fetches reach public addresses only, unless
//! the operator allows a block (`MCP_OAUTH_CLIENT_METADATA_NETWORKS`), or
//! the development server allows loopback.
//!
//! The check is made on every address a name resolves to, by the resolver
//! the HTTP client connects with: the addresses checked are the addresses
//! connected to, so a name that answers one address to a check and another
//! to the connection (DNS rebinding) gets nowhere. A URL naming an address
//! itself never reaches the resolver, and is checked with
//! [`AddressPolicy::permits`] before the fetch.

use super::rate_limit::AddressBlock;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, LazyLock};

/// Blocks that are not the public internet: this host, private and
/// shared networks, link-local, documentation and benchmarking ranges,
/// multicast, reserved and unspecified addresses (IANA special-purpose
/// registries). IPv4-mapped IPv6 addresses count as their IPv4 address.
const SPECIAL_BLOCKS: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    // IPv4-compatible (deprecated): `::a.b.c.d`; IPv4-translated.
    "::/96",
    "::ffff:0:0:0/96",
    "64:ff9b:1::/48",
    "100::/64",
    // IETF protocol assignments, Teredo among them.
    "2001::/23",
    "2001:db8::/32",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

static SPECIAL: LazyLock<Vec<AddressBlock>> = LazyLock::new(|| {
    SPECIAL_BLOCKS
        .iter()
        .filter_map(|block| AddressBlock::parse(block).ok())
        .collect()
});

/// Whether `ip` is an address of the public internet. NAT64 (`64:ff9b::/96`)
/// and 6to4 (`2002::/16`) addresses are as public as the IPv4 address they
/// carry: on an IPv6-only network every public IPv4 host has a NAT64 name.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    !SPECIAL.iter().any(|block| block.contains(ip))
        && embedded_ipv4(ip).is_none_or(|v4| is_public(IpAddr::V4(v4)))
}

/// The IPv4 address a translated IPv6 address stands for (NAT64, 6to4).
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    let segments = v6.segments();
    let bits = u128::from(v6);
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // The low 32 bits are the IPv4 address.
        return Some(Ipv4Addr::from(bits as u32));
    }
    if segments[0] == 0x2002 {
        // Bits 16 to 48.
        return Some(Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

/// Which addresses a fetch may reach: public ones, and those the operator
/// (or the development server) allows.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddressPolicy {
    /// Blocks allowed although not public.
    allowed: Vec<AddressBlock>,
    /// Whether this host's own addresses are allowed (development server).
    loopback: bool,
}

impl AddressPolicy {
    /// Public addresses, loopback when `loopback`, and the `allowed`
    /// blocks (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`); the error names a
    /// bad entry.
    pub(crate) fn new<S: AsRef<str>>(
        allowed: impl IntoIterator<Item = S>,
        loopback: bool,
    ) -> Result<Self, String> {
        let allowed = allowed
            .into_iter()
            .map(|block| AddressBlock::parse(block.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed, loopback })
    }

    /// Whether a fetch may connect to `ip`.
    pub(crate) fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip)
            || (self.loopback && is_loopback(ip))
            || self.allowed.iter().any(|block| block.contains(ip))
    }

    /// A resolver for a [`reqwest::ClientBuilder::dns_resolver`] that
    /// answers only with addresses this policy permits, and fails with
    /// [`ForbiddenAddress`] when a name resolves to any other.
    pub(crate) fn resolver(&self) -> Arc<CheckedResolver> {
        Arc::new(CheckedResolver {
            policy: self.clone(),
        })
    }
}

/// Loopback, IPv4-mapped included.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// A name resolved to an address the policy does not permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ForbiddenAddress(pub(crate) IpAddr);

impl std::fmt::Display for ForbiddenAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "resolves to {}, which is not a public address", self.0)
    }
}

impl std::error::Error for ForbiddenAddress {}

impl ForbiddenAddress {
    /// The forbidden address behind a failed request, if that is why it
    /// failed.
    pub(crate) fn cause_of(error: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut cause = Some(error);
        while let Some(current) = cause {
            if let Some(forbidden) = current.downcast_ref::<Self>() {
                return Some(*forbidden);
            }
            cause = current.source();
        }
        None
    }
}

/// The resolver of [`AddressPolicy::resolver`].
#[derive(Debug)]
pub(crate) struct CheckedResolver {
    policy: AddressPolicy,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            // Every address must pass, not just one: the connection may
            // be made to any of them.
            if let Some(forbidden) = addresses.iter().find(|a| !policy.permits(a.ip())) {
                return Err(Box::new(ForbiddenAddress(forbidden.ip())) as _);
            }
            if addresses.is_empty() {
                return Err(format!("`{host}` has no address").into());
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn v6(text: &str) -> IpAddr {
        IpAddr::V6(text.parse::<std::net::Ipv6Addr>().unwrap())
    }

    #[test]
    fn only_the_public_internet_is_public() {
        for public in [
            "93.184.215.14",
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
        assert!(is_public(v6("2606:4700:4700::1111")));
        assert!(is_public(v6("64:ff9b::808:808")), "NAT64 of 8.8.8.8");
        for special in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.2.1",
        ] {
            assert!(!is_public(ip(special)), "{special}");
        }
        for special in [
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "ff02::1",
            "2001:db8::1",
            // IPv4-mapped, NAT64 and 6to4 forms of private addresses.
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:0a00:0001::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(v6(special)), "{special}");
        }
    }

    /// A block that did not parse would be left out silently.
    #[test]
    fn every_special_block_parses() {
        for block in SPECIAL_BLOCKS {
            assert!(AddressBlock::parse(block).is_ok(), "{block}");
        }
        assert_eq!(SPECIAL.len(), SPECIAL_BLOCKS.len());
    }

    #[test]
    fn translated_addresses_count_as_what_they_carry() {
        assert_eq!(
            embedded_ipv4(v6("64:ff9b::a9fe:a9fe")),
            Some(Ipv4Addr::new(169, 254, 169, 254))
        );
        assert_eq!(
            embedded_ipv4(v6("2002:0a00:0001::1")),
            Some(Ipv4Addr::new(10, 0, 0, 1))
        );
        assert_eq!(embedded_ipv4(v6("2606:4700::1")), None);
    }

    #[test]
    fn the_operator_and_the_development_server_widen_it() {
        let strict = AddressPolicy::new::<&str>([], false).unwrap();
        assert!(!strict.permits(ip("127.0.0.1")));
        assert!(!strict.permits(ip("10.0.0.5")));
        assert!(strict.permits(ip("8.8.8.8")));
        let dev = AddressPolicy::new::<&str>([], true).unwrap();
        assert!(dev.permits(ip("127.0.0.1")));
        assert!(dev.permits(v6("::1")));
        assert!(dev.permits(v6("::ffff:127.0.0.1")));
        assert!(!dev.permits(ip("10.0.0.5")), "loopback only");
        assert!(!dev.permits(ip("169.254.169.254")));
        let operator = AddressPolicy::new(["10.0.0.0/8"], false).unwrap();
        assert!(operator.permits(ip("10.0.0.5")));
        assert!(!operator.permits(ip("192.168.0.5")));
        assert!(AddressPolicy::new(["10.0.0.0/33"], false).is_err());
        assert!(AddressPolicy::new(["intranet"], false).is_err());
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_forbidden_address_is_refused() {
        use reqwest::dns::Resolve;
        let strict = AddressPolicy::new::<&str>([], false).unwrap();
        let refused = strict
            .resolver()
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost is loopback");
        let forbidden = ForbiddenAddress::cause_of(refused.as_ref()).expect("named as forbidden");
        assert!(forbidden.0.is_loopback(), "{forbidden}");
        let dev = AddressPolicy::new::<&str>([], true).unwrap();
        let addresses: Vec<_> = dev
            .resolver()
            .resolve("localhost".parse().unwrap())
            .await
            .expect("loopback is allowed")
            .collect();
        assert!(
            addresses.iter().all(|a| a.ip().is_loopback()),
            "{addresses:?}"
        );
    }

    #[tokio::test]
    async fn a_fetch_through_the_resolver_names_the_forbidden_address() {
        let strict = AddressPolicy::new::<&str>([], false).unwrap();
        let client = reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(strict.resolver())
            .build()
            .unwrap();
        let error = client
            .get("http://localhost:9/")
            .send()
            .await
            .expect_err("localhost is not public");
        assert!(
            ForbiddenAddress::cause_of(&error).is_some(),
            "the cause is found through reqwest's error chain: {error:?}"
        );
    }
}
