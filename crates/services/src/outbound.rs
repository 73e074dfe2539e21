//! The one gate for requests the server makes on its own (webhooks, WebSub pings, the agency
//! ingest to come): an HTTP client that reaches only public addresses and what
//! `[outbound] allow` names. Addresses are judged after DNS resolution, inside the client's
//! resolver, so the address checked is the address connected to (a DNS answer that changes
//! between a check and the connection cannot slip through), and every redirect the client
//! follows is checked again. It must never build a client any other way for these requests.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use newsdesk_core::config::Outbound;
use newsdesk_core::outbound::{AddressKind, AllowEntry, classify, is_local_name};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a request was not sent. The text is for an admin: it says what was refused and how
/// to allow it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundRefusal {
    #[error(
        "{host} is {kind}, inside the network: the server does not send requests there unless `outbound.allow` names it"
    )]
    Inside { host: String, kind: AddressKind },
    #[error(
        "{host} resolves only to addresses inside the network ({addresses}): the server does not send requests there unless `outbound.allow` names it"
    )]
    ResolvesInside { host: String, addresses: String },
    #[error("{host} does not resolve to any address")]
    Unresolved { host: String },
    #[error("the address must be http:// or https:// and name a host")]
    NotHttp,
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
}

/// The allow list, shared by the check before sending and the client's resolver.
#[derive(Debug, Clone, Default)]
pub struct OutboundGuard {
    allow: Arc<[AllowEntry]>,
}

impl OutboundGuard {
    pub fn new(settings: &Outbound) -> Self {
        OutboundGuard {
            allow: settings.entries().into(),
        }
    }

    /// What can be told from the address alone, before any DNS: an address inside the
    /// network, `localhost`, or a named host's port the allow list does not open. Run on
    /// the first address and on every redirect; host names are judged again once resolved.
    pub fn check_url(&self, url: &Url) -> Result<(), OutboundRefusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundRefusal::NotHttp);
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(OutboundRefusal::NotHttp);
        };
        // The URL parser has already turned every spelling of an address (`2130706433`,
        // `0x7f.1`) into its dotted or bracketed form.
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return self.check_address(host, ip, port);
        }
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        let named: Vec<&AllowEntry> = self.allow.iter().filter(|e| e.names(&name)).collect();
        if !named.is_empty() {
            // The name is allowed only on the ports its entries open.
            return if named.iter().any(|e| e.opens(port)) {
                Ok(())
            } else {
                Err(OutboundRefusal::Inside {
                    host: format!("{name}:{port}"),
                    kind: AddressKind::Private,
                })
            };
        }
        if is_local_name(&name) {
            return Err(OutboundRefusal::Inside {
                host: name,
                kind: AddressKind::Loopback,
            });
        }
        Ok(())
    }

    fn check_address(&self, host: &str, ip: IpAddr, port: u16) -> Result<(), OutboundRefusal> {
        match classify(ip) {
            None => Ok(()),
            Some(_) if self.allow.iter().any(|e| e.contains(ip) && e.opens(port)) => Ok(()),
            Some(kind) => Err(OutboundRefusal::Inside {
                host: host.to_owned(),
                kind,
            }),
        }
    }

    /// Whether a resolved address of `name` may be connected to. The port is not known
    /// here: an address entry limited to a port allows only requests that name the address
    /// itself (checked with the port in `check_url`), never a name resolving to it.
    fn permits_resolved(&self, name: &str, ip: IpAddr) -> bool {
        classify(ip).is_none()
            || self.allow.iter().any(|e| e.names(name))
            || self
                .allow
                .iter()
                .any(|e| e.port.is_none() && e.contains(ip))
    }

    /// A client that resolves through this guard, sends no request through a proxy (the
    /// proxy would connect where we did not check), and follows at most `redirects`
    /// redirects, each checked (0: it follows none).
    pub fn client(
        &self,
        builder: reqwest::ClientBuilder,
        redirects: usize,
    ) -> reqwest::Result<reqwest::Client> {
        let policy = if redirects == 0 {
            reqwest::redirect::Policy::none()
        } else {
            let guard = self.clone();
            reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > redirects {
                    return attempt.error(OutboundRefusal::TooManyRedirects(redirects));
                }
                match guard.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(refusal) => attempt.error(refusal),
                }
            })
        };
        builder
            .no_proxy()
            .redirect(policy)
            .dns_resolver(Arc::new(GuardedResolver {
                guard: self.clone(),
            }))
            .build()
    }
}

/// The refusal behind a failed request, if the guard refused it.
pub fn refusal_of(error: &reqwest::Error) -> Option<OutboundRefusal> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(refusal) = e.downcast_ref::<OutboundRefusal>() {
            return Some(refusal.clone());
        }
        source = e.source();
    }
    None
}

/// The system's resolver, keeping only the addresses the guard permits.
struct GuardedResolver {
    guard: OutboundGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if found.is_empty() {
                return Err(OutboundRefusal::Unresolved { host }.into());
            }
            let (permitted, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = found
                .into_iter()
                .partition(|a| guard.permits_resolved(&host, a.ip()));
            if permitted.is_empty() {
                let addresses = refused
                    .iter()
                    .map(|a| a.ip().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(OutboundRefusal::ResolvesInside { host, addresses }.into());
            }
            let addrs: Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(allow: &[&str]) -> OutboundGuard {
        OutboundGuard::new(&Outbound {
            allow: allow.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    fn check(guard: &OutboundGuard, url: &str) -> Result<(), OutboundRefusal> {
        guard.check_url(&Url::parse(url).expect(url))
    }

    #[test]
    fn addresses_inside_the_network_are_refused_before_any_request() {
        let strict = guard(&[]);
        for url in [
            "http://127.0.0.1:5432/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
            "http://10.0.0.1/",
            "http://0.0.0.0:6379/",
            "http://localhost:8080/",
            "http://api.localhost./",
            "http://2130706433/",
            "http://0x7f.1/",
            "ftp://example.org/",
        ] {
            assert!(check(&strict, url).is_err(), "{url}");
        }
        for url in ["https://hooks.example.org/in", "http://93.184.216.34:8080/"] {
            assert_eq!(check(&strict, url), Ok(()), "{url}");
        }
        let message = check(&strict, "http://169.254.169.254/")
            .expect_err("refused")
            .to_string();
        assert!(
            message.contains("169.254.169.254") && message.contains("outbound.allow"),
            "{message}"
        );
    }

    #[test]
    fn the_allow_list_opens_named_hosts_addresses_and_ports_only() {
        let allowing = guard(&[
            "127.0.0.1:8125",
            "hooks.internal.example:8443",
            "10.1.0.0/16",
        ]);
        assert_eq!(check(&allowing, "http://127.0.0.1:8125/"), Ok(()));
        assert!(check(&allowing, "http://127.0.0.1:5432/").is_err());
        assert_eq!(
            check(&allowing, "https://hooks.internal.example:8443/"),
            Ok(())
        );
        assert!(check(&allowing, "https://hooks.internal.example/").is_err());
        assert_eq!(check(&allowing, "http://10.1.2.3/"), Ok(()));
        assert!(check(&allowing, "http://10.2.0.1/").is_err());
        // After resolution: a name is allowed only by its own entry or a port-free network.
        let loopback: IpAddr = "127.0.0.1".parse().expect("ip");
        assert!(!allowing.permits_resolved("rebind.example.org", loopback));
        assert!(allowing.permits_resolved("hooks.internal.example", loopback));
        assert!(allowing.permits_resolved("x.example.org", "10.1.0.9".parse().expect("ip")));
        assert!(allowing.permits_resolved("x.example.org", "8.8.8.8".parse().expect("ip")));
        assert!(guard(&["127.0.0.1"]).permits_resolved("localhost", loopback));
    }

    #[tokio::test]
    async fn a_name_resolving_inside_the_network_is_refused_at_connection() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = guard(&[])
            .client(reqwest::Client::builder(), 0)
            .expect("client");
        // Sent without the check before sending: the resolver alone refuses it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let sent = client.get(format!("http://localhost:{port}/")).send().await;
        let error = sent.expect_err("refused");
        let refusal = refusal_of(&error);
        assert!(refusal.is_some(), "{error:?}");
    }

    /// A server on 127.0.0.1 that answers every request with `answer`.
    async fn answering(answer: &'static str) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        port
    }

    #[tokio::test]
    async fn a_redirect_inside_the_network_is_refused_and_an_allowed_address_reached() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let redirecting = answering(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://169.254.169.254/latest/meta-data/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await;
        let client = guard(&[&format!("127.0.0.1:{redirecting}")])
            .client(reqwest::Client::builder(), 5)
            .expect("client");
        let error = client
            .post(format!("http://127.0.0.1:{redirecting}/hub"))
            .send()
            .await
            .expect_err("refused");
        assert_eq!(
            refusal_of(&error),
            Some(OutboundRefusal::Inside {
                host: "169.254.169.254".into(),
                kind: AddressKind::LinkLocal,
            }),
            "{error:?}"
        );
        let answering_ok =
            answering("HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        let client = guard(&["127.0.0.1"])
            .client(reqwest::Client::builder(), 5)
            .expect("client");
        let answer = client
            .get(format!("http://127.0.0.1:{answering_ok}/"))
            .send()
            .await
            .expect("allowed");
        assert_eq!(answer.status().as_u16(), 204);
    }
}
