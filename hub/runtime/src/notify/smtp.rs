//! Sending one mail over SMTP with lettre, and what a failure means for the queue: a 5xx
//! answer is the server refusing the mail for good (a dead letter, replayable once the address
//! or the server is fixed); a 4xx, a refused or dropped connection, a TLS failure or a timeout
//! may pass (the queue retries).

use super::config::Security;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use switchyard_core::error::AdapterError;

/// Where and how mails are sent.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// How to reach the server.
pub struct Server<'a> {
    pub host: &'a str,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
    pub timeout: Duration,
    /// PEM certificates trusted besides the public roots (`[email] ca_file`).
    pub ca_pem: Option<&'a [u8]>,
}

/// Why the transport could not be built, by the key at fault.
#[derive(Debug)]
pub enum SetupError {
    Host(String),
    Ca(String),
}

/// The TLS parameters for `host`: the public roots (webpki-roots, as reqwest has them), plus
/// every certificate of `ca_pem`.
fn tls_parameters(host: &str, ca_pem: Option<&[u8]>) -> Result<TlsParameters, SetupError> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(pem) = ca_pem {
        let cert = Certificate::from_pem(pem).map_err(|e| SetupError::Ca(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| SetupError::Host(e.to_string()))
}

impl Mailer {
    /// Build the transport (nothing connects until a mail is sent).
    pub fn new(server: Server<'_>, from: Mailbox) -> Result<Self, SetupError> {
        let plain = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host);
        let builder = match server.security {
            Security::Tls => plain.tls(Tls::Wrapper(tls_parameters(server.host, server.ca_pem)?)),
            Security::Starttls => {
                plain.tls(Tls::Required(tls_parameters(server.host, server.ca_pem)?))
            }
            Security::None => plain,
        };
        let mut builder = builder.port(server.port).timeout(Some(server.timeout));
        if let Some((user, password)) = server.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Send one mail; the error says whether to retry.
    pub async fn send(&self, message: Message) -> Result<(), AdapterError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(&e)),
        }
    }
}

fn classify(e: &lettre::transport::smtp::Error) -> AdapterError {
    let text = describe(e);
    if e.is_permanent() {
        AdapterError::permanent(format!("SMTP refused the mail: {text}"))
    } else {
        AdapterError::transient(format!("SMTP: {text}"))
    }
}

/// lettre's message with its sources (the server's answer, the I/O error).
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        // lettre repeats the server's answer as the source of its own message.
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// What one mail carries.
pub struct Mail<'a> {
    pub to: Mailbox,
    pub subject: &'a str,
    pub text: String,
    pub html: String,
    /// `<...@...>`: the same on every retry, so a receiver can tell a resend.
    pub message_id: &'a str,
}

/// The message: From, To, Subject, Message-ID, Date, and a multipart/alternative of the text
/// and the HTML part.
pub fn message(from: &Mailbox, mail: Mail<'_>) -> Result<Message, String> {
    Message::builder()
        .from(from.clone())
        .to(mail.to)
        .subject(mail.subject)
        .message_id(Some(mail.message_id.to_owned()))
        .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
        .map_err(|e| e.to_string())
}
