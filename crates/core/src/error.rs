//! What can be wrong with what a person asked for, in their terms.

/// A rule of the domain that an input broke. Each variant names the field so that a form,
/// the API and the CLI can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{field} is required")]
    Required { field: &'static str },
    #[error("{field} is too long: at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("section `{0}` does not exist")]
    UnknownSection(String),
    #[error("language `{0}` is not one of the site's languages")]
    UnknownLanguage(String),
    #[error("a {role} may not {what}")]
    Forbidden {
        role: &'static str,
        what: &'static str,
    },
    #[error("an item cannot go from {from} to {to}")]
    Transition {
        from: &'static str,
        to: &'static str,
    },
}

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// The input field the error is about, if it is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Required { field }
            | Error::TooLong { field, .. }
            | Error::Invalid { field, .. } => Some(field),
            Error::UnknownSection(_) => Some("section"),
            Error::UnknownLanguage(_) => Some("language"),
            Error::Transition { .. } => Some("status"),
            Error::Forbidden { .. } => None,
        }
    }
}
