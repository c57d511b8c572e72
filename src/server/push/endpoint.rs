//! Which push endpoints the server will send to. An endpoint is the
//! client's to give, so without care it would let anyone aim the server at
//! its own network (SSRF): only `https://` to public addresses is taken.
//! The host is checked when a device is kept and again at every send, and
//! names are resolved by [`PublicOnly`], which hands the HTTP client public
//! addresses only: a name that later resolves inward (DNS rebinding)
//! reaches nothing. `RTCA_PUSH_PRIVATE_ENDPOINTS` lifts all of it, for
//! tests with a push service of their own.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use base64ct::{Base64UrlUnpadded, Encoding};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::ChatError;
use crate::protocol::{PushSubscription, MAX_PUSH_ENDPOINT};

/// A device's subscription, checked: its endpoint, and its keys decoded.
pub struct Device {
    /// The endpoint as the URL parser reads it (`127.1` is `127.0.0.1`
    /// here, as it would be when sent): what was checked is what is sent to.
    pub endpoint: axum::http::Uri,
    pub public_key: web_push_native::p256::PublicKey,
    pub auth: web_push_native::Auth,
}

/// `subscription`, if the server may push to it.
pub fn checked(subscription: &PushSubscription, private_allowed: bool) -> Result<Device, ChatError> {
    let refused = |why: &str| ChatError::PushEndpointRefused(why.to_owned());
    let endpoint = &subscription.endpoint;
    if endpoint.len() > MAX_PUSH_ENDPOINT {
        return Err(refused("the endpoint is too long"));
    }
    // The parser reqwest sends with: it reads `127.1`, `0x7f.0.0.1` and
    // `2130706433` as 127.0.0.1, so the check must see what it sees.
    let url = url::Url::parse(endpoint).map_err(|_| refused("the endpoint is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if private_allowed => {}
        _ => return Err(refused("the endpoint must be https://")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("the endpoint carries a user name"));
    }
    let public = match url.host() {
        Some(url::Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => name_may_be_public(name),
        None => return Err(refused("the endpoint has no host")),
    };
    if !private_allowed && !public {
        return Err(refused("the endpoint is a private or local address"));
    }
    let uri: axum::http::Uri = url.as_str().parse().map_err(|_| refused("the endpoint is not a URL"))?;
    let key =
        Base64UrlUnpadded::decode_vec(&subscription.keys.p256dh).map_err(|_| refused("`p256dh` is not base64url"))?;
    let public_key = web_push_native::p256::PublicKey::from_sec1_bytes(&key)
        .map_err(|_| refused("`p256dh` is not a P-256 public key"))?;
    let auth =
        Base64UrlUnpadded::decode_vec(&subscription.keys.auth).map_err(|_| refused("`auth` is not base64url"))?;
    if auth.len() != 16 {
        return Err(refused("`auth` is not 16 bytes"));
    }
    Ok(Device { endpoint: uri, public_key, auth: web_push_native::Auth::clone_from_slice(&auth) })
}

/// Whether a host name (not an address) may be a public one: not a local
/// name (its addresses are checked when it is resolved, [`PublicOnly`]).
fn name_may_be_public(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let local = ["localhost", "local", "internal", "localdomain", "home.arpa"];
    name.contains('.') && !local.iter().any(|suffix| name == *suffix || name.ends_with(&format!(".{suffix}")))
}

/// Whether `ip` is an address of the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24; benchmarking, 198.18.0.0/15.
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local, fc00::/7; link-local, fe80::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        // Documentation, 2001:db8::/32; Teredo, 2001::/32.
        || (first == 0x2001 && (second == 0x0db8 || second == 0))
        // Addresses that carry an IPv4 one (which may be inward): IPv4-
        // compatible, ::/96; NAT64, 64:ff9b::/32 (the well-known prefix and
        // the local-use one); 6to4, 2002::/16. No push service is reached
        // through them.
        || ip.segments()[..6] == [0; 6]
        || (first == 0x64 && second == 0xff9b)
        || first == 0x2002)
}

/// The HTTP client's resolver for push services: a name's public
/// addresses only (all of them, with private endpoints allowed).
pub struct PublicOnly {
    pub private_allowed: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let private_allowed = self.private_allowed;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found.filter(|addr| private_allowed || is_public(addr.ip())).collect();
            if kept.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PushKeys;

    /// A real browser's keys (from web-push-native's documentation).
    fn device(endpoint: &str) -> PushSubscription {
        PushSubscription {
            endpoint: endpoint.to_owned(),
            keys: PushKeys {
                p256dh: "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY"
                    .into(),
                auth: "_ordMnz7uTCmrpBTeUV4Bw".into(),
            },
        }
    }

    #[test]
    fn only_https_to_public_hosts_is_taken() {
        assert!(checked(&device("https://fcm.googleapis.com/fcm/send/abc"), false).is_ok());
        assert!(checked(&device("https://updates.push.services.mozilla.com/wpush/v2/x"), false).is_ok());
        assert!(checked(&device("https://8.8.8.8/push"), false).is_ok());
        for refused in [
            "http://push.example.com/x",
            "ftp://push.example.com/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[fe80::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://localhost/x",
            "https://push.localhost/x",
            "https://intranet/x",
            "https://printer.local/x",
            "https://user@push.example.com/x",
            "https://127.1/x",
            "https://0x7f.0.0.1/x",
            "https://0177.0.0.1/x",
            "https://2130706433/x",
            "https://2130706433./x",
            "https://10.0.0.1./x",
            "https://[64:ff9b::a00:1]/x",
            "https://[2002:a00:1::]/x",
            "https://[::a00:1]/x",
            "https://LOCALHOST./x",
            "not a url",
        ] {
            let refusal = checked(&device(refused), false).err();
            assert!(matches!(refusal, Some(ChatError::PushEndpointRefused(_))), "{refused}: {refusal:?}");
        }
    }

    #[test]
    fn tests_may_push_to_their_own_service() {
        assert!(checked(&device("http://127.0.0.1:4000/push/1"), true).is_ok());
        assert!(checked(&device("ftp://127.0.0.1/x"), true).is_err());
    }

    #[test]
    fn keys_must_be_what_a_browser_gives() {
        let mut bad = device("https://push.example.com/x");
        bad.keys.auth = "AAAA".into();
        assert!(checked(&bad, false).is_err());
        let mut bad = device("https://push.example.com/x");
        bad.keys.p256dh = "not-a-key".into();
        assert!(checked(&bad, false).is_err());
    }
}
