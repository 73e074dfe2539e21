//! Mail to readers (address verification, password reset): over SMTP when `mail.smtp_url` is
//! set, otherwise into the data directory's `outbox/`, one `.eml` file per message, for the
//! operator to read in the demo and in development. Mail is plain text: nothing a reader
//! wrote can become markup in someone's mail client.

use std::path::PathBuf;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::{Result, ServiceError};

/// One message to one reader.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

fn mail_error(what: &str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Io(std::io::Error::other(format!("{what}: {e}")))
}

impl Mailer {
    /// From the `[mail]` settings; `data_dir` holds the outbox when there is no SMTP server.
    pub fn new(settings: &newsdesk_core::config::Mail, data_dir: &std::path::Path) -> Result<Self> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| mail_error("config key `mail.from`", e))?;
        let transport = match &settings.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| mail_error("config key `mail.smtp_url`", e))?
                    .build(),
            ),
            None => Transport::Outbox(data_dir.join("outbox")),
        };
        Ok(Mailer { from, transport })
    }

    /// Where mail goes, for the start-up log.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".into(),
            Transport::Outbox(dir) => format!("the outbox {}", dir.display()),
        }
    }

    pub async fn send(&self, mail: &Mail) -> Result<()> {
        let to: Mailbox = mail.to.parse().map_err(|e| mail_error("recipient", e))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .body(mail.text.clone())
            .map_err(|e| mail_error("building the message", e))?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message)
                    .await
                    .map_err(|e| mail_error("sending mail", e))?;
            }
            Transport::Outbox(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let name = format!(
                    "{}-{}.eml",
                    jiff::Timestamp::now().as_microsecond(),
                    crate::accounts::random_token()?.get(..8).unwrap_or("mail")
                );
                tokio::fs::write(dir.join(name), message.formatted()).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use lettre::message::Mailbox;
    use newsdesk_core::account::normalize_email;

    /// Core's rule is never looser than the mailer: whatever it lets in, lettre can address.
    #[test]
    fn every_address_core_accepts_the_mailer_accepts() {
        let candidates = [
            "leyla@example.org",
            "a.b@example.org",
            "first.last+news@sub.example.co.uk",
            "o'brien@example.ie",
            "x_y-z@ex-ample.org",
            "user@münchen.de",
            "!#$%&'*+-/=?^_`{|}~@example.org",
            "a..b@example.org",
            "a(b)@example.org",
            "a@[127.0.0.1]",
            "\"a b\"@example.org",
            "a@127.0.0.1",
            "a@example.org.",
            "a\\b@example.org",
        ];
        let mut accepted = 0;
        for candidate in candidates {
            if let Ok(email) = normalize_email(candidate) {
                accepted += 1;
                assert!(
                    email.parse::<Mailbox>().is_ok(),
                    "core accepts {email} but the mailer refuses it"
                );
            }
        }
        assert_eq!(accepted, 7);
    }
}
