//! The SSRF guard's rules: which addresses a request made to a URL that a tenant chose (an
//! outbound webhook endpoint) must never reach, and the configured exceptions.
//!
//! Pure: no resolver and no HTTP client here. The API checks an endpoint's URL with it at
//! creation (hub/api/src/outbound.rs), and the delivery client checks every address its
//! resolver returns, on every new connection (hub/runtime/src/ssrf.rs), so a name that
//! resolved to a public address at creation and to `127.0.0.1` later (DNS rebinding) is caught.
//!
//! The ranges are a table rather than a crate's `is_global`: std's `is_global` is unstable,
//! and the crates that port it answer yes or no, while the refusal must say *which* range an
//! address is in (the 422 names it). The table follows the IANA special-purpose registries
//! (RFC 6890 and successors); CIDR arithmetic is `ipnet`'s.

use ipnet::IpNet;
use serde::de::{self, Deserialize, Deserializer};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not a public one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    /// `0.0.0.0/8`, `::`: "this host/network"; connecting to it reaches the local host.
    ThisNetwork,
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// RFC 6598 shared address space (carrier-grade NAT), `100.64/10`.
    SharedCgnat,
    /// Cloud instance metadata services (`169.254.169.254`, `fd00:ec2::254`, ...): they hand
    /// out the machine's credentials, the usual prize of an SSRF.
    CloudMetadata,
    /// `169.254/16`, `fe80::/10`.
    LinkLocal,
    /// `fc00::/7`.
    UniqueLocal,
    /// `fec0::/10`, deprecated but still routed inside some sites.
    SiteLocal,
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.0/24`, `2001::/23`: protocol assignments (Teredo among them), not hosts.
    ProtocolAssignment,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`.
    Documentation,
    /// `198.18/15`.
    Benchmarking,
    /// `240/4` (reserved for future use), `100::/64` (discard), `::/96` (IPv4-compatible,
    /// deprecated), `64:ff9b:1::/48` (local NAT64).
    Reserved,
}

impl Reserved {
    pub fn describe(self) -> &'static str {
        match self {
            Self::ThisNetwork => "a \"this network\" address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::SharedCgnat => "a shared (carrier-grade NAT) address",
            Self::CloudMetadata => "a cloud metadata address",
            Self::LinkLocal => "a link-local address",
            Self::UniqueLocal => "a unique-local address",
            Self::SiteLocal => "a site-local address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "the broadcast address",
            Self::ProtocolAssignment => "an IETF protocol assignment address",
            Self::Documentation => "a documentation address",
            Self::Benchmarking => "a benchmarking address",
            Self::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// First match wins: the metadata addresses come before the ranges holding them.
const V4: &[(&str, Reserved)] = &[
    ("169.254.169.254/32", Reserved::CloudMetadata),
    // AWS ECS task metadata.
    ("169.254.170.2/32", Reserved::CloudMetadata),
    // Alibaba Cloud.
    ("100.100.100.200/32", Reserved::CloudMetadata),
    // Oracle Cloud's second metadata address.
    ("192.0.0.192/32", Reserved::CloudMetadata),
    ("0.0.0.0/8", Reserved::ThisNetwork),
    ("10.0.0.0/8", Reserved::Private),
    ("100.64.0.0/10", Reserved::SharedCgnat),
    ("127.0.0.0/8", Reserved::Loopback),
    ("169.254.0.0/16", Reserved::LinkLocal),
    ("172.16.0.0/12", Reserved::Private),
    ("192.0.0.0/24", Reserved::ProtocolAssignment),
    ("192.0.2.0/24", Reserved::Documentation),
    ("192.168.0.0/16", Reserved::Private),
    ("198.18.0.0/15", Reserved::Benchmarking),
    ("198.51.100.0/24", Reserved::Documentation),
    ("203.0.113.0/24", Reserved::Documentation),
    ("224.0.0.0/4", Reserved::Multicast),
    ("255.255.255.255/32", Reserved::Broadcast),
    ("240.0.0.0/4", Reserved::Reserved),
];

const V6: &[(&str, Reserved)] = &[
    // AWS's IPv6 instance metadata service.
    ("fd00:ec2::254/128", Reserved::CloudMetadata),
    ("::/128", Reserved::ThisNetwork),
    ("::1/128", Reserved::Loopback),
    ("::/96", Reserved::Reserved),
    ("64:ff9b:1::/48", Reserved::Reserved),
    ("100::/64", Reserved::Reserved),
    ("2001:db8::/32", Reserved::Documentation),
    ("2001::/23", Reserved::ProtocolAssignment),
    ("fc00::/7", Reserved::UniqueLocal),
    ("fe80::/10", Reserved::LinkLocal),
    ("fec0::/10", Reserved::SiteLocal),
    ("ff00::/8", Reserved::Multicast),
];

fn lookup(table: &[(&str, Reserved)], addr: IpAddr) -> Option<Reserved> {
    table.iter().find_map(|(net, why)| {
        let net: IpNet = net.parse().expect("the table's ranges parse");
        net.contains(&addr).then_some(*why)
    })
}

/// The IPv4 address an IPv6 one stands for, where packets to it reach that IPv4 address:
/// IPv4-mapped (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002:AABB:CCDD::/48`).
pub fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let o = v6.octets();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// The special range `addr` lies in, or `None` for a public address. An IPv6 address that
/// carries an IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 address it reaches.
pub fn classify(addr: IpAddr) -> Option<Reserved> {
    match addr {
        IpAddr::V4(_) => lookup(V4, addr),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => lookup(V4, IpAddr::V4(v4)),
            None => lookup(V6, addr),
        },
    }
}

/// One exception in `[webhooks] allow_private`: a host name as written in endpoint URLs
/// (`localhost`, `hooks.internal`), or an address or CIDR block (`127.0.0.1`, `10.1.0.0/16`,
/// `::1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Host(String),
    Net(IpNet),
}

impl Allowed {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(Self::Net(net));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Self::Net(IpNet::from(ip)));
        }
        let host_like = !s.is_empty()
            && s.len() <= 253
            && s.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        // A digit-and-dot string that did not parse as an address is a typo, not a name.
        if host_like
            && !s
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '/')
        {
            Ok(Self::Host(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{s}` is neither a host name nor an IP address or CIDR block (such as `10.0.0.0/8`)"
            ))
        }
    }
}

impl<'de> Deserialize<'de> for Allowed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(de::Error::custom)
    }
}

/// An address the guard refuses, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub addr: IpAddr,
    pub reserved: Reserved,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is {}, not allowed unless [webhooks] allow_private lists it",
            self.addr, self.reserved
        )
    }
}

/// The rule: public addresses pass; a special one passes only when its host name or a
/// block holding it is listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guard {
    allowed: Vec<Allowed>,
}

impl Guard {
    pub fn new(allowed: Vec<Allowed>) -> Self {
        Self { allowed }
    }

    /// Whether `host` (as in the URL, without brackets) is allowed by name.
    pub fn host_allowed(&self, host: &str) -> bool {
        self.allowed
            .iter()
            .any(|a| matches!(a, Allowed::Host(h) if h.eq_ignore_ascii_case(host)))
    }

    fn net_allowed(&self, addr: IpAddr) -> bool {
        // An IPv4-mapped address is allowed by the IPv4 block too (`::ffff:127.0.0.1` is
        // `127.0.0.1` on the wire).
        let v4 = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allowed.iter().any(|a| match a {
            Allowed::Net(n) => n.contains(&addr) || v4.is_some_and(|v| n.contains(&v)),
            Allowed::Host(_) => false,
        })
    }

    /// Check one address `host` resolved to.
    pub fn check(&self, host: &str, addr: IpAddr) -> Result<(), Refusal> {
        match classify(addr) {
            None => Ok(()),
            Some(_) if self.host_allowed(host) || self.net_allowed(addr) => Ok(()),
            Some(reserved) => Err(Refusal { addr, reserved }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(s: &str) -> Option<Reserved> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        for (addr, expected) in [
            ("0.0.0.0", Reserved::ThisNetwork),
            ("0.1.2.3", Reserved::ThisNetwork),
            ("10.0.0.1", Reserved::Private),
            ("10.255.255.255", Reserved::Private),
            ("172.16.0.1", Reserved::Private),
            ("172.31.255.254", Reserved::Private),
            ("192.168.1.1", Reserved::Private),
            ("100.64.0.1", Reserved::SharedCgnat),
            ("100.127.255.254", Reserved::SharedCgnat),
            ("127.0.0.1", Reserved::Loopback),
            ("127.255.0.9", Reserved::Loopback),
            ("169.254.169.254", Reserved::CloudMetadata),
            ("169.254.170.2", Reserved::CloudMetadata),
            ("100.100.100.200", Reserved::CloudMetadata),
            ("192.0.0.192", Reserved::CloudMetadata),
            ("169.254.1.1", Reserved::LinkLocal),
            ("192.0.0.8", Reserved::ProtocolAssignment),
            ("192.0.2.10", Reserved::Documentation),
            ("198.51.100.10", Reserved::Documentation),
            ("203.0.113.10", Reserved::Documentation),
            ("198.18.0.1", Reserved::Benchmarking),
            ("198.19.255.1", Reserved::Benchmarking),
            ("224.0.0.1", Reserved::Multicast),
            ("239.255.255.250", Reserved::Multicast),
            ("240.0.0.1", Reserved::Reserved),
            ("255.255.255.255", Reserved::Broadcast),
        ] {
            assert_eq!(why(addr), Some(expected), "{addr}");
        }
    }

    #[test]
    fn ipv4_public_addresses_and_range_edges_pass() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(why(addr), None, "{addr}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        for (addr, expected) in [
            ("::", Reserved::ThisNetwork),
            ("::1", Reserved::Loopback),
            ("::7f00:1", Reserved::Reserved),
            ("fd00:ec2::254", Reserved::CloudMetadata),
            ("fd00:ec2::253", Reserved::UniqueLocal),
            ("fc00::1", Reserved::UniqueLocal),
            ("fdff:ffff::1", Reserved::UniqueLocal),
            ("fe80::1", Reserved::LinkLocal),
            ("febf::1", Reserved::LinkLocal),
            ("fec0::1", Reserved::SiteLocal),
            ("ff02::1", Reserved::Multicast),
            ("ff0e::1", Reserved::Multicast),
            ("2001:db8::1", Reserved::Documentation),
            ("2001:0:4136:e378::1", Reserved::ProtocolAssignment),
            ("100::1", Reserved::Reserved),
            ("64:ff9b:1::1", Reserved::Reserved),
        ] {
            assert_eq!(why(addr), Some(expected), "{addr}");
        }
        for addr in ["2606:4700:4700::1111", "2a00:1450::1", "2001:4860::8888"] {
            assert_eq!(why(addr), None, "{addr}");
        }
    }

    #[test]
    fn ipv6_addresses_carrying_ipv4_are_judged_by_the_ipv4_address() {
        // IPv4-mapped: what a dual-stack socket connects to as 127.0.0.1.
        assert_eq!(why("::ffff:127.0.0.1"), Some(Reserved::Loopback));
        assert_eq!(why("::ffff:169.254.169.254"), Some(Reserved::CloudMetadata));
        assert_eq!(why("::ffff:10.1.2.3"), Some(Reserved::Private));
        assert_eq!(why("::ffff:8.8.8.8"), None);
        // NAT64 and 6to4 gateways forward to the IPv4 address inside.
        assert_eq!(why("64:ff9b::a9fe:a9fe"), Some(Reserved::CloudMetadata));
        assert_eq!(why("64:ff9b::808:808"), None);
        assert_eq!(why("2002:7f00:1::1"), Some(Reserved::Loopback));
        assert_eq!(why("2002:c0a8:101::1"), Some(Reserved::Private));
        assert_eq!(why("2002:808:808::1"), None);
    }

    #[test]
    fn allow_list_entries_parse_or_say_what_is_wrong() {
        assert_eq!(
            Allowed::parse("127.0.0.1").unwrap(),
            Allowed::Net("127.0.0.1/32".parse().unwrap())
        );
        assert_eq!(
            Allowed::parse("10.1.0.0/16").unwrap(),
            Allowed::Net("10.1.0.0/16".parse().unwrap())
        );
        assert_eq!(
            Allowed::parse("::1").unwrap(),
            Allowed::Net("::1/128".parse().unwrap())
        );
        assert_eq!(
            Allowed::parse("LocalHost").unwrap(),
            Allowed::Host("localhost".into())
        );
        for bad in ["", "10.0.0.300", "10.0.0.0/33", "a b", "http://x", "x..y"] {
            let e = Allowed::parse(bad).unwrap_err();
            assert!(e.contains("neither a host name"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_guard_allows_listed_hosts_and_blocks_only() {
        let guard = Guard::new(vec![
            Allowed::Host("hooks.internal".into()),
            Allowed::parse("127.0.0.1").unwrap(),
            Allowed::parse("10.1.0.0/16").unwrap(),
        ]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(guard.check("example.com", ip("93.184.216.34")).is_ok());
        assert!(guard.check("hooks.internal", ip("10.9.9.9")).is_ok());
        assert!(guard.check("HOOKS.internal", ip("169.254.169.254")).is_ok());
        assert!(guard.check("x", ip("127.0.0.1")).is_ok());
        assert!(guard.check("x", ip("::ffff:127.0.0.1")).is_ok());
        assert!(guard.check("x", ip("10.1.200.1")).is_ok());
        let refused = guard.check("x", ip("127.0.0.2")).unwrap_err();
        assert_eq!(refused.reserved, Reserved::Loopback);
        assert_eq!(
            refused.to_string(),
            "127.0.0.2 is a loopback address, not allowed unless [webhooks] allow_private lists it"
        );
        assert_eq!(
            guard.check("x", ip("10.2.0.1")).unwrap_err().reserved,
            Reserved::Private
        );
        assert_eq!(
            Guard::default()
                .check("localhost", ip("::1"))
                .unwrap_err()
                .reserved,
            Reserved::Loopback
        );
    }
}
