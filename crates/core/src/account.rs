//! People who work in the desk: their roles, what each role may do, and the rules an account
//! obeys. Readers (the comments issue) will join this table with a role of their own.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::Error;

pub const EMAIL_MAX: usize = 254;
pub const NAME_MAX: usize = 100;
/// Long enough to resist guessing with argon2id in front of it (NIST SP 800-63B asks 8).
pub const PASSWORD_MIN: usize = 10;
/// Bounds the work an attacker can make argon2 do with one request.
pub const PASSWORD_MAX: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Contributor,
    Editor,
    Moderator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Contributor,
        Role::Editor,
        Role::Moderator,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Contributor => "contributor",
            Role::Editor => "editor",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The one place that says who may do what; every desk route asks it on the server.
    /// Whether an account in this role may hand a token the powers of `scope`: only when
    /// everything `scope` may do, this role may do too. Roles are not a ladder (a moderator
    /// is neither above nor below an editor), so this compares what they allow.
    pub fn may_grant(self, scope: Role) -> bool {
        Action::ALL
            .into_iter()
            .all(|action| !scope.may(action) || self.may(action))
    }

    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Editor => !matches!(action, ManageAccounts | ManageSettings | ManageWebhooks),
            Role::Moderator => matches!(action, UseDesk | Moderate | ViewAllItems),
            Role::Contributor => matches!(action, UseDesk | WriteOwnDrafts | SubmitForReview),
        }
    }
}

/// What someone can try to do in the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    UseDesk,
    WriteOwnDrafts,
    SubmitForReview,
    ViewAllItems,
    EditAnyItem,
    Publish,
    Schedule,
    Unpublish,
    Correct,
    ManageLabels,
    Moderate,
    ManageAccounts,
    ManageSettings,
    /// Register webhook endpoints, see their secrets and delivery log, replay deliveries.
    ManageWebhooks,
}

impl Action {
    pub const ALL: [Action; 14] = [
        Action::UseDesk,
        Action::WriteOwnDrafts,
        Action::SubmitForReview,
        Action::ViewAllItems,
        Action::EditAnyItem,
        Action::Publish,
        Action::Schedule,
        Action::Unpublish,
        Action::Correct,
        Action::ManageLabels,
        Action::Moderate,
        Action::ManageAccounts,
        Action::ManageSettings,
        Action::ManageWebhooks,
    ];
}

/// What an API token is: a staff member's, acting as them within a role, or a read key that
/// only names a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Staff,
    Read,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Staff => "staff",
            TokenKind::Read => "read",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "staff" => Some(TokenKind::Staff),
            "read" => Some(TokenKind::Read),
            _ => None,
        }
    }
}

/// Longest name of an API token ("iOS app build server").
pub const TOKEN_NAME_MAX: usize = 100;

/// A token's name as typed: trimmed, one line, bounded, not empty.
pub fn validate_token_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Required { field: "name" });
    }
    if name.chars().count() > TOKEN_NAME_MAX {
        return Err(Error::TooLong {
            field: "name",
            max: TOKEN_NAME_MAX,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "must be one line of text"));
    }
    Ok(name.to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    /// Stored lowercase; the sign-in name.
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// A new account as an admin or the command line hands it in.
#[derive(Debug, Clone)]
pub struct AccountInput {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// Longest local part (before the `@`) SMTP carries (RFC 5321, 4.5.3.1.1).
pub const EMAIL_LOCAL_MAX: usize = 64;

/// Lowercased and trimmed, or a clear error. The address is proven by mail later; this only
/// refuses what the mailer would refuse after the account is written (quoted or commented
/// local parts, dots out of place, address literals such as `a@[127.0.0.1]`), so the rule
/// is the common dot-atom form: stricter than RFC 5322, never looser than the mailer.
pub fn normalize_email(email: &str) -> Result<String, Error> {
    let email = email.trim().to_lowercase();
    if email.chars().count() > EMAIL_MAX {
        return Err(Error::TooLong {
            field: "email",
            max: EMAIL_MAX,
        });
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(Error::invalid(
            "email",
            "an email address needs an @ between a name and a domain",
        ));
    };
    if !is_dot_atom(local) {
        return Err(Error::invalid(
            "email",
            "this site can only write to addresses with letters, digits and . _ + - before the @ \
             (no spaces, brackets, quotes, or dots at the ends or two in a row)",
        ));
    }
    if !is_domain_name(domain) {
        return Err(Error::invalid(
            "email",
            "after the @ give a domain name such as example.org",
        ));
    }
    Ok(email)
}

/// RFC 5322's dot-atom in ASCII: atoms of `atext` joined by single dots.
fn is_dot_atom(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    local.len() <= EMAIL_LOCAL_MAX
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
        })
}

/// A host name of two labels or more (letters, digits, inner hyphens; non-ASCII letters for
/// internationalised names) whose last label is not a number: no IP addresses, no literals.
fn is_domain_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

pub fn check_password(password: &str) -> Result<(), Error> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        return Err(Error::invalid(
            "password",
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if length > PASSWORD_MAX {
        return Err(Error::TooLong {
            field: "password",
            max: PASSWORD_MAX,
        });
    }
    Ok(())
}

impl AccountInput {
    /// The normalized email and name, or the first rule broken.
    pub fn validate(&self) -> Result<(String, String), Error> {
        let email = normalize_email(&self.email)?;
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            return Err(Error::Required { field: "name" });
        }
        if name.chars().count() > NAME_MAX {
            return Err(Error::TooLong {
                field: "name",
                max: NAME_MAX,
            });
        }
        if name.chars().any(char::is_control) {
            return Err(Error::invalid("name", "contains control characters"));
        }
        check_password(&self.password)?;
        Ok((email, name))
    }
}

/// A signed-in session as the store finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub account: Account,
    /// The token every form of this session must carry.
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_exactly_their_work() {
        use Action::*;
        let all = Action::ALL;
        let allowed = |role: Role| {
            all.iter()
                .copied()
                .filter(|a| role.may(*a))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            allowed(Role::Contributor),
            [UseDesk, WriteOwnDrafts, SubmitForReview]
        );
        assert_eq!(allowed(Role::Moderator), [UseDesk, ViewAllItems, Moderate]);
        assert!(Role::Editor.may(Publish) && Role::Editor.may(Correct));
        assert!(Role::Editor.may(Moderate), "editors moderate comments too");
        assert!(!Role::Editor.may(ManageAccounts));
        assert_eq!(allowed(Role::Admin).len(), all.len());
    }

    #[test]
    fn emails_are_normalized_or_refused() {
        assert_eq!(
            normalize_email(" Leyla@Example.ORG ").as_deref(),
            Ok("leyla@example.org")
        );
        for good in [
            "leyla@example.org",
            "a.b@example.org",
            "first.last+news@sub.example.co.uk",
            "o'brien@example.ie",
            "x_y-z@ex-ample.org",
            "1234@example.org",
            "user@münchen.de",
            "!#$%&'*+-/=?^_`{|}~@example.org",
            &format!("{}@example.org", "a".repeat(EMAIL_LOCAL_MAX)),
        ] {
            assert_eq!(normalize_email(good).as_deref(), Ok(good), "{good}");
        }
        for bad in [
            "",
            "leyla",
            "@example.org",
            "leyla@example",
            "a b@example.org",
            "a@b@c.org",
            "leyla@.org",
            "a..b@example.org",
            ".ab@example.org",
            "ab.@example.org",
            "a(b)@example.org",
            "a(comment)b@example.org",
            "\"quoted\"@example.org",
            "\"a b\"@example.org",
            "a\\b@example.org",
            "a,b@example.org",
            "a;b@example.org",
            "a:b@example.org",
            "a<b>@example.org",
            "a[b]@example.org",
            "Name <a@example.org>",
            "a@[127.0.0.1]",
            "a@[ipv6:::1]",
            "a@127.0.0.1",
            "a@example..org",
            "a@-example.org",
            "a@example-.org",
            "a@exa_mple.org",
            "a@example.org.",
            "a@.example.org",
            "a@exa mple.org",
            "a@example.org\u{0}",
            "a\u{7}@example.org",
            "a\nb@example.org",
            "ä@example.org",
            "a@example.org,b@example.org",
            "a@example.org\r\nBcc: c@example.org",
            &format!("{}@example.org", "a".repeat(EMAIL_LOCAL_MAX + 1)),
            &format!("a@{}.org", "b".repeat(64)),
            &format!("a@{}.org", "b".repeat(EMAIL_MAX)),
        ] {
            let refused = normalize_email(bad);
            assert!(refused.is_err(), "{bad:?} was accepted");
            assert_eq!(refused.err().and_then(|e| e.field()), Some("email"));
        }
    }

    #[test]
    fn password_limits_hold_at_their_edges() {
        assert!(check_password(&"x".repeat(PASSWORD_MIN - 1)).is_err());
        assert!(check_password(&"x".repeat(PASSWORD_MIN)).is_ok());
        assert!(check_password(&"ə".repeat(PASSWORD_MAX)).is_ok());
        assert!(check_password(&"ə".repeat(PASSWORD_MAX + 1)).is_err());
    }

    #[test]
    fn a_token_never_gets_more_than_its_maker_may_do() {
        for role in Role::ALL {
            assert!(role.may_grant(role), "{role:?} grants itself");
            assert!(role.may_grant(Role::Contributor) || role == Role::Moderator);
            assert!(Role::Admin.may_grant(role));
        }
        assert!(!Role::Editor.may_grant(Role::Admin));
        assert!(!Role::Moderator.may_grant(Role::Editor));
        assert!(
            !Role::Moderator.may_grant(Role::Contributor),
            "moderators write nothing"
        );
        assert!(!Role::Contributor.may_grant(Role::Moderator));
        assert!(Role::Editor.may_grant(Role::Moderator));
    }

    #[test]
    fn token_names_hold_at_their_edges() {
        assert!(validate_token_name(" ").is_err());
        assert_eq!(validate_token_name(" iOS app ").as_deref(), Ok("iOS app"));
        assert!(validate_token_name(&"ə".repeat(TOKEN_NAME_MAX)).is_ok());
        assert!(validate_token_name(&"ə".repeat(TOKEN_NAME_MAX + 1)).is_err());
        assert!(validate_token_name("two\nlines").is_err());
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    /// `item:42` or `account:leyla@example.org`.
    pub subject: String,
    pub detail: String,
}
