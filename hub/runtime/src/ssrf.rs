//! The SSRF guard at delivery time: an HTTP client for URLs that tenants chose (outbound
//! webhook endpoints) that never connects to a loopback, private, link-local, unique-local,
//! CGNAT, multicast or cloud-metadata address unless `[webhooks] allow_private` allows it.
//!
//! The check sits in the client's resolver ([`GuardedResolver`]), so it runs after DNS
//! resolution on every new connection: a name that resolved to a public address when the
//! endpoint was created and resolves to `127.0.0.1` now (DNS rebinding) is refused, and so is
//! a name with one public and one private address (the private one is dropped). Three ways
//! around a resolver are closed here too: an address written in the URL is never resolved
//! (checked by [`check_literal`] before sending), a proxy from the environment would be
//! resolved instead of the target (the client uses none), and a redirect could lead to a
//! private address (none is followed).
//!
//! The rules themselves (the ranges, the allow list) are `switchyard_core::ssrf`'s, shared
//! with the API's check at creation.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use switchyard_core::ssrf::{Guard, Refusal};

/// Every address a name resolved to was refused.
#[derive(Debug, thiserror::Error)]
#[error("refused by the SSRF guard: {host} resolves to {}", list(.refusals))]
pub struct Refused {
    pub host: String,
    pub refusals: Vec<Refusal>,
}

fn list(refusals: &[Refusal]) -> String {
    refusals
        .iter()
        .map(|r| format!("{}, {}", r.addr, r.reserved))
        .collect::<Vec<_>>()
        .join("; ")
        + ": not allowed unless [webhooks] allow_private lists the host or address"
}

/// The system resolver (getaddrinfo, as reqwest's own) with the guard applied to its answer.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    guard: Arc<Guard>,
}

impl GuardedResolver {
    pub fn new(guard: Guard) -> Self {
        Self {
            guard: Arc::new(guard),
        }
    }

    /// The addresses of `host` the guard lets through, or why there are none.
    pub async fn lookup(
        &self,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        // Port 0: the connector puts the URL's port on whatever is returned.
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
        Ok(filter(&self.guard, host, found)?)
    }
}

/// Keep the allowed addresses; refuse when none is left.
fn filter(guard: &Guard, host: &str, found: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
    let mut refusals = Vec::new();
    let mut kept = Vec::new();
    for a in found {
        match guard.check(host, a.ip()) {
            Ok(()) => kept.push(a),
            Err(r) => refusals.push(r),
        }
    }
    if kept.is_empty() && !refusals.is_empty() {
        return Err(Refused {
            host: host.to_owned(),
            refusals,
        });
    }
    if !refusals.is_empty() {
        tracing::warn!(host, refused = %list(&refusals), "some addresses of a webhook host refused by the SSRF guard");
    }
    Ok(kept)
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = this.lookup(name.as_str()).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A client builder whose every connection passes the guard: the guarded resolver, no proxy,
/// no redirects. Callers add timeouts and the user agent.
pub fn client_builder(guard: Guard) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver::new(guard)))
        // A proxy would be resolved in the target's place, and would reach the target for us.
        .no_proxy()
        // A redirect is not followed: it could lead anywhere (a private address), and a
        // receiver that moved should have its URL changed, not be chased on every delivery.
        .redirect(reqwest::redirect::Policy::none())
}

/// An address written in the URL (`http://10.0.0.1/`, `http://[::1]/`) is connected to
/// without asking the resolver, so it is checked here, before sending.
pub fn check_literal(guard: &Guard, url: &str) -> Result<(), Refused> {
    let Ok(url) = url::Url::parse(url) else {
        // Not a URL: the client refuses it with its own error.
        return Ok(());
    };
    let addr: IpAddr = match url.host() {
        Some(url::Host::Ipv4(a)) => a.into(),
        Some(url::Host::Ipv6(a)) => a.into(),
        _ => return Ok(()),
    };
    guard.check(&addr.to_string(), addr).map_err(|r| Refused {
        host: addr.to_string(),
        refusals: vec![r],
    })
}

/// A failed send in words: the guard's refusal when that is the cause (reqwest's own message
/// only says "error sending request"), "timed out", or the error with its causes.
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut words = Vec::new();
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<Refused>() {
            return refused.to_string();
        }
        let w = s.to_string();
        if !words.iter().any(|seen: &String| seen.contains(&w)) {
            words.push(w);
        }
        source = s.source();
    }
    words.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::ssrf::{Allowed, Reserved};

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter()
            .map(|a| SocketAddr::new(a.parse().unwrap(), 0))
            .collect()
    }

    #[test]
    fn ssrf_filter_drops_refused_addresses_and_refuses_when_none_is_left() {
        let guard = Guard::default();
        let kept = filter(&guard, "mixed.example", addrs(&["10.0.0.1", "8.8.8.8"])).unwrap();
        assert_eq!(kept, addrs(&["8.8.8.8"]));
        let refused = filter(
            &guard,
            "rebound.example",
            addrs(&["127.0.0.1", "::ffff:169.254.169.254"]),
        )
        .unwrap_err();
        assert_eq!(refused.refusals.len(), 2);
        assert_eq!(refused.refusals[1].reserved, Reserved::CloudMetadata);
        let text = refused.to_string();
        assert!(
            text.contains("rebound.example resolves to 127.0.0.1, a loopback address"),
            "{text}"
        );
        assert!(text.contains("allow_private"), "{text}");
    }

    #[tokio::test]
    async fn ssrf_resolver_refuses_localhost_unless_allowed() {
        // `localhost` resolves to loopback through the system resolver, with no DNS server.
        let refused = GuardedResolver::new(Guard::default())
            .lookup("localhost")
            .await
            .unwrap_err();
        let refused = refused.downcast::<Refused>().unwrap();
        assert!(refused
            .refusals
            .iter()
            .all(|r| r.reserved == Reserved::Loopback));
        for allow in ["localhost", "127.0.0.0/8"] {
            let resolver = GuardedResolver::new(Guard::new(vec![
                Allowed::parse(allow).unwrap(),
                Allowed::parse("::1").unwrap(),
            ]));
            let found = resolver.lookup("localhost").await.unwrap();
            assert!(!found.is_empty(), "{allow}");
            assert!(found.iter().all(|a| a.ip().is_loopback()), "{allow}");
        }
    }

    #[test]
    fn ssrf_literal_addresses_are_checked_before_sending() {
        let guard = Guard::new(vec![Allowed::parse("127.0.0.1").unwrap()]);
        assert!(check_literal(&guard, "http://127.0.0.1:8080/hook").is_ok());
        assert!(check_literal(&guard, "https://hooks.example.com/").is_ok());
        let r = check_literal(&guard, "http://169.254.169.254/latest/meta-data").unwrap_err();
        assert_eq!(r.refusals[0].reserved, Reserved::CloudMetadata);
        let r = check_literal(&guard, "http://[::ffff:10.0.0.1]/").unwrap_err();
        assert_eq!(r.refusals[0].reserved, Reserved::Private);
        assert!(check_literal(&guard, "http://[fd00:ec2::254]/").is_err());
    }

    /// A real request through the guarded client: refused by name, and the error says why.
    #[tokio::test]
    async fn ssrf_client_refuses_a_name_resolving_to_loopback_and_says_why() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = served.clone();
        tokio::spawn(async move {
            while let Ok((_socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        let client = client_builder(Guard::default()).build().unwrap();
        let e = client
            .post(format!("http://localhost:{port}/hook"))
            .send()
            .await
            .unwrap_err();
        let said = describe(&e);
        assert!(
            said.starts_with("refused by the SSRF guard: localhost resolves to"),
            "{said}"
        );
        assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 0);
        // Allowed by name, the same request connects (the listener drops it: no answer).
        let allowed = Guard::new(vec![Allowed::parse("localhost").unwrap()]);
        let client = client_builder(allowed).build().unwrap();
        let e = client
            .post(format!("http://localhost:{port}/hook"))
            .send()
            .await
            .unwrap_err();
        assert!(!describe(&e).contains("SSRF"), "{}", describe(&e));
        assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
