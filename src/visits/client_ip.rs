use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::config::TrustedProxy;

/// Finds the client's address: the TCP peer, unless the peer is a trusted proxy, in which case
/// the right-most `X-Forwarded-For` entry that is not itself a trusted proxy. Entries a client
/// wrote itself sit left of those its proxies appended, so they are never believed.
#[derive(Debug, Clone, Default)]
pub struct ClientIpResolver {
    trusted: Vec<IpNet>,
}

impl ClientIpResolver {
    pub fn new(trusted: &[TrustedProxy]) -> Self {
        Self {
            trusted: trusted.iter().map(|p| p.0).collect(),
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
            return peer;
        }
        let header_values: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        let hops = header_values.iter().flat_map(|value| value.split(','));
        let mut client = peer;
        for hop in hops.rev() {
            if !self.is_trusted(client) {
                break;
            }
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => client = ip.to_canonical(),
                Err(_) => break,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn resolver(nets: &[&str]) -> ClientIpResolver {
        let trusted: Vec<TrustedProxy> = nets
            .iter()
            .map(|n| TrustedProxy::try_from(n.to_string()).unwrap())
            .collect();
        ClientIpResolver::new(&trusted)
    }

    fn xff(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_claim() {
        let r = resolver(&["10.0.0.0/8"]);
        let ip = r.resolve("203.0.113.9".parse().unwrap(), &xff("1.2.3.4"));
        assert_eq!(ip, "203.0.113.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn trusted_proxies_hand_over_the_rightmost_untrusted_hop() {
        let r = resolver(&["10.0.0.0/8"]);
        let headers = xff("6.6.6.6, 198.51.100.7, 10.0.0.3");
        let ip = r.resolve("10.0.0.2".parse().unwrap(), &headers);
        assert_eq!(ip, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn garbage_in_the_header_stops_the_walk() {
        let r = resolver(&["127.0.0.1"]);
        let ip = r.resolve("127.0.0.1".parse().unwrap(), &xff("not-an-ip"));
        assert_eq!(ip, "127.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn garbage_between_hops_is_never_skipped_over() {
        let r = resolver(&["10.0.0.0/8"]);
        let ip = r.resolve("10.0.0.2".parse().unwrap(), &xff("1.1.1.1, junk, 10.0.0.9"));
        assert_eq!(ip, "10.0.0.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ipv4_mapped_ipv6_peers_match_ipv4_ranges() {
        let r = resolver(&["127.0.0.1"]);
        let ip = r.resolve("::ffff:127.0.0.1".parse().unwrap(), &xff("192.0.2.1"));
        assert_eq!(ip, "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
