//! The client's IP address, trusting `X-Forwarded-For` only from configured proxies.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;

/// An IP network written `10.0.0.0/8`, `::1/128` or a bare address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (
                address.parse::<IpAddr>().ok()?,
                Some(prefix.parse::<u8>().ok()?),
            ),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { address, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.address, ip) {
            // The IPv4 bits are moved to the top, where the prefix counts from.
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)) << 96, self.prefix)
                    == masked(u128::from(u32::from(ip)) << 96, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix) == masked(u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - u32::from(prefix)))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are compared as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Decides which address a request comes from.
#[derive(Debug, Clone, Default)]
pub struct ClientIpResolver {
    trusted_proxies: Vec<IpNetwork>,
}

impl ClientIpResolver {
    pub fn new(trusted_proxies: Vec<IpNetwork>) -> Self {
        Self { trusted_proxies }
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .any(|network| network.contains(ip))
    }

    /// Whether the request came through a trusted proxy, whose forwarding headers
    /// (`X-Forwarded-*`, `Forwarded`) may be believed.
    pub fn trusts_peer(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|peer| self.trusted(canonical(peer)))
    }

    /// The peer's address; when the peer is a trusted proxy, the right-most address in
    /// `X-Forwarded-For` that is not itself a trusted proxy (what a client cannot forge).
    pub fn resolve(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusted(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
            .map(canonical)
            .collect();
        Some(
            forwarded
                .iter()
                .rev()
                .find(|ip| !self.trusted(**ip))
                .or(forwarded.first())
                .copied()
                .unwrap_or(peer),
        )
    }

    pub fn of_request(&self, request: &HttpRequest) -> Option<IpAddr> {
        self.resolve(request.peer_addr().map(|a| a.ip()), request.headers())
    }

    pub fn of_service_request(&self, request: &ServiceRequest) -> Option<IpAddr> {
        self.resolve(request.peer_addr().map(|a| a.ip()), request.headers())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_str(xff).expect("ascii"),
        );
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn networks_match_by_prefix() {
        let net = IpNetwork::parse("10.0.0.0/8").expect("net");
        assert!(net.contains(ip("10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.9.9.9")));
        assert!(IpNetwork::parse("::1").expect("net").contains(ip("::1")));
        assert!(
            IpNetwork::parse("0.0.0.0/0")
                .expect("net")
                .contains(ip("8.8.8.8"))
        );
        assert_eq!(IpNetwork::parse("10.0.0.0/33"), None);
        assert_eq!(IpNetwork::parse("nonsense"), None);
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let resolver = ClientIpResolver::new(vec![IpNetwork::parse("127.0.0.1").expect("net")]);
        assert_eq!(
            resolver.resolve(Some(ip("203.0.113.9")), &headers("1.2.3.4")),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn the_right_most_untrusted_forwarded_address_wins_behind_a_trusted_proxy() {
        let resolver = ClientIpResolver::new(vec![IpNetwork::parse("10.0.0.0/8").expect("net")]);
        // The client forged "6.6.6.6"; the proxy appended the real address.
        assert_eq!(
            resolver.resolve(
                Some(ip("10.0.0.2")),
                &headers("6.6.6.6, 198.51.100.7, 10.0.0.5")
            ),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            resolver.resolve(Some(ip("10.0.0.2")), &HeaderMap::new()),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            resolver.resolve(Some(ip("10.0.0.2")), &headers("garbage")),
            Some(ip("10.0.0.2"))
        );
    }
}
