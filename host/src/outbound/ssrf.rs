//! Outbound address policy: after DNS resolution, loopback, private, link-local,
//! CGNAT, multicast and other non-public addresses are refused (unless the
//! configuration allows private targets, as the sandbox and tests do). The
//! resolver hands reqwest only the addresses it checked, so a name cannot be
//! re-resolved to another address between the check and the connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10 CGNAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24 IETF
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15 benchmarking
        || o[0] >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // 6to4 (2002::/16) embeds an IPv4 address in segments 1-2.
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return is_public_v4(v4);
    }
    // NAT64 (64:ff9b::/96) embeds one in the last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return is_public_v4(v4);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link local
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0)) // IPv4-compatible
}

/// A reqwest resolver that drops non-public addresses unless allowed.
pub struct CheckedResolver {
    /// Allow loopback / private targets.
    pub allow_private: bool,
    /// Names answered with a fixed address instead of DNS (`[network] resolve`).
    pub fixed: std::collections::BTreeMap<String, IpAddr>,
}

impl CheckedResolver {
    /// The policy of `[network]`: private targets only when `allow_private`,
    /// and the `resolve` map's names answered without DNS.
    pub fn from_config(network: &crate::config::NetworkConfig) -> CheckedResolver {
        CheckedResolver {
            allow_private: network.allow_private,
            fixed: network.resolve.iter().map(|(name, ip)| (name.to_ascii_lowercase(), *ip)).collect(),
        }
    }

    /// For an address the operator wrote in the configuration (an account's
    /// `api_base`): every address allowed, names resolved by DNS.
    pub fn operator_chosen() -> CheckedResolver {
        CheckedResolver { allow_private: true, fixed: Default::default() }
    }

    /// Whether a literal IP address in a URL passes the policy (names are
    /// checked when they are resolved).
    pub fn allows_literal(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }
}

/// A name whose every address is non-public while private targets are not
/// allowed. Permanent for a job: retrying resolves to the same answer, so the
/// http capability turns it into a `denied` error (found in the error chain
/// with [`PrivateOnly::find`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateOnly {
    /// The name as requested.
    pub host: String,
    /// What it resolved to (all refused).
    pub addrs: Vec<IpAddr>,
}

impl std::fmt::Display for PrivateOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let addrs: Vec<String> = self.addrs.iter().map(IpAddr::to_string).collect();
        write!(
            f,
            "{} resolves only to private or other non-public addresses ({}); refused because network.allow_private is false",
            self.host,
            addrs.join(", ")
        )
    }
}

impl std::error::Error for PrivateOnly {}

impl PrivateOnly {
    /// The refusal somewhere in an error's chain of causes (a reqwest error
    /// wraps the resolver's), if that is why it failed.
    pub fn find<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a PrivateOnly> {
        let mut current = Some(e);
        while let Some(err) = current {
            if let Some(found) = err.downcast_ref::<PrivateOnly>() {
                return Some(found);
            }
            // An io::Error's `source` skips the error it wraps; look inside.
            if let Some(found) =
                err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|inner| inner.downcast_ref::<PrivateOnly>())
            {
                return Some(found);
            }
            current = err.source();
        }
        None
    }
}

impl CheckedResolver {
    /// The addresses of `host` a connection may use: all of them when private
    /// targets are allowed, else the public ones; none left is a [`PrivateOnly`].
    pub fn filter(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, PrivateOnly> {
        let allowed: Vec<SocketAddr> = addrs.iter().copied().filter(|a| self.allows_literal(a.ip())).collect();
        if allowed.is_empty() && !addrs.is_empty() {
            return Err(PrivateOnly { host: host.to_string(), addrs: addrs.iter().map(SocketAddr::ip).collect() });
        }
        Ok(allowed)
    }
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = CheckedResolver { allow_private: self.allow_private, fixed: Default::default() };
        let fixed = self.fixed.get(&name.as_str().to_ascii_lowercase()).copied();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = match fixed {
                Some(ip) => vec![SocketAddr::new(ip, 0)],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let allowed = policy.filter(&host, addrs)?;
            let iter: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(iter)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_the_usual_suspects() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2002:7f00:1::",
            "64:ff9b::a00:1",
            "2001::1",
            "198.18.0.1",
        ] {
            assert!(!is_public(bad.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))), "{bad} should be blocked");
        }
    }

    #[tokio::test]
    async fn fixed_names_skip_dns_and_still_meet_the_address_policy() {
        use reqwest::dns::Resolve;
        let fixed: std::collections::BTreeMap<String, IpAddr> =
            [("media.s3.amazonaws.com".to_string(), IpAddr::V4(Ipv4Addr::LOCALHOST))].into_iter().collect();
        let name = |n: &str| n.parse::<reqwest::dns::Name>().unwrap_or_else(|e| panic!("{e}"));
        let open = CheckedResolver { allow_private: true, fixed: fixed.clone() };
        let addrs: Vec<SocketAddr> = open.resolve(name("media.s3.amazonaws.com")).await.map(|a| a.collect()).unwrap_or_default();
        assert_eq!(addrs, [SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)]);
        let strict = CheckedResolver { allow_private: false, fixed };
        let refused = strict.resolve(name("media.s3.amazonaws.com")).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("non-public"), "{refused}");
    }

    #[test]
    fn a_name_with_only_private_addresses_is_refused_naming_it() {
        let addr = |s: &str| SocketAddr::new(s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), 443);
        let strict = CheckedResolver { allow_private: false, fixed: Default::default() };
        let refused = strict.filter("crm.internal.test", vec![addr("127.0.0.1"), addr("10.0.0.7")]);
        let err = refused.err().unwrap_or_else(|| panic!("private-only name was allowed"));
        assert_eq!(err.host, "crm.internal.test");
        let msg = err.to_string();
        assert!(msg.contains("crm.internal.test") && msg.contains("only to private") && msg.contains("10.0.0.7"), "{msg}");
        // Found again through a chain of causes, as reqwest wraps it.
        let wrapped: Box<dyn std::error::Error + Send + Sync> = Box::new(err.clone());
        let io = std::io::Error::other(wrapped);
        assert_eq!(PrivateOnly::find(&io), Some(&err));
        // A public address among private ones is kept, alone.
        assert_eq!(strict.filter("mixed.test", vec![addr("10.0.0.7"), addr("8.8.8.8")]), Ok(vec![addr("8.8.8.8")]));
        // Allowed when the configuration allows private targets.
        let open = CheckedResolver { allow_private: true, fixed: Default::default() };
        assert_eq!(open.filter("crm.internal.test", vec![addr("127.0.0.1")]), Ok(vec![addr("127.0.0.1")]));
    }

    #[test]
    fn allows_public() {
        for good in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2002:808:808::", "::ffff:8.8.8.8"] {
            assert!(is_public(good.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))), "{good} should be allowed");
        }
    }
}
