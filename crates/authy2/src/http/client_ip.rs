//! Which address a request comes from (API.md, "Client IP"): the socket's peer, unless that
//! peer is a trusted proxy; then the right-most `X-Forwarded-For` hop that is not itself a
//! trusted proxy. Anything a client could forge is ignored.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Resolves the client address of a request that arrived from `peer`.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer.map(canonical)?;
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    // Hops are appended left to right, so walking from the right visits the nearest first;
    // the first one we do not trust is the client as far as anyone we trust can tell.
    let mut nearest = peer;
    for hop in forwarded_hops(headers).rev() {
        match parse_hop(hop) {
            Some(ip) if is_trusted(ip, trusted) => nearest = ip,
            Some(ip) => return Some(ip),
            // A garbled entry: the hop that reported it is the last one we can vouch for.
            None => return Some(nearest),
        }
    }
    Some(nearest)
}

fn forwarded_hops(headers: &HeaderMap) -> impl DoubleEndedIterator<Item = &str> {
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    values.into_iter()
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    // `[2001:db8::1]:443` or `192.0.2.1:8080`
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| canonical(addr.ip()))
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// IPv4 clients of a dual-stack socket appear as `::ffff:a.b.c.d`; treat them as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}
