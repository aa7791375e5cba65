//! The error kinds every part of zuora-sync reports, each with the context a user needs to act
//! (object, field, record id, URL without secrets) and the process exit code it maps to.

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Process exit codes, following sysexits(3) where one fits.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const PARTIAL: i32 = 3;
    pub const UNAVAILABLE: i32 = 69;
    pub const LOCKED: i32 = 75;
    pub const CONFIG: i32 = 78;
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file or environment is wrong; every problem found is listed.
    #[error("configuration error{}", list(.0))]
    Config(Vec<String>),

    /// A service rejected the credentials it was given.
    #[error("{service} rejected the credentials: {detail}")]
    Credentials {
        service: &'static str,
        detail: String,
    },

    /// A record that cannot be stored exactly as its Describe type says.
    #[error("{}", data_message(.object, .record_id.as_deref(), .field.as_deref(), .detail))]
    Data {
        object: String,
        record_id: Option<String>,
        field: Option<String>,
        detail: String,
    },

    /// A service refused an operation for want of a privilege; the message names the grant.
    #[error("{service} refused: {detail}")]
    Denied {
        service: &'static str,
        detail: String,
    },

    /// Zuora answered in a way the API does not allow (and retrying will not change).
    #[error("Zuora: {0}")]
    Source(String),

    /// A service stayed unreachable or overloaded through the whole retry budget.
    #[error("{service} unavailable: {detail}")]
    Unavailable {
        service: &'static str,
        detail: String,
    },

    /// The warehouse refused or failed a statement.
    #[error("warehouse: {0}")]
    Destination(String),

    #[error("staging: {0}")]
    Staging(String),

    #[error("checkpoint database: {0}")]
    Checkpoint(String),

    /// Another run holds the lock next to the checkpoint database.
    #[error("another run holds the lock: {0}")]
    Locked(String),

    /// The run stopped on SIGINT or SIGTERM after making its checkpoint consistent.
    #[error("interrupted; the checkpoint is consistent and the next run resumes")]
    Interrupted,

    /// Something zuora-sync deliberately does not do, named so that nothing is skipped silently.
    #[error("unsupported: {0}")]
    Unsupported(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn config(problem: impl Into<String>) -> Self {
        Self::Config(vec![problem.into()])
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Config(_) | Self::Credentials { .. } | Self::Denied { .. } => exit::CONFIG,
            Self::Unavailable { .. } => exit::UNAVAILABLE,
            Self::Locked(_) => exit::LOCKED,
            Self::Interrupted => exit::INTERRUPTED,
            _ => exit::FAILURE,
        }
    }
}

fn list(problems: &[String]) -> String {
    match problems {
        [one] => format!(": {one}"),
        many => many.iter().fold(String::from(":"), |mut out, p| {
            out.push_str("\n  - ");
            out.push_str(p);
            out
        }),
    }
}

fn data_message(object: &str, record: Option<&str>, field: Option<&str>, detail: &str) -> String {
    let mut out = object.to_string();
    if let Some(id) = record {
        out.push_str(&format!(" record {id}"));
    }
    if let Some(field) = field {
        out.push_str(&format!(" field {field}"));
    }
    out.push_str(": ");
    out.push_str(detail);
    out
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Self::Checkpoint(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_name_object_record_and_field() {
        let e = Error::Data {
            object: "Account".into(),
            record_id: Some("8a8a0001".into()),
            field: Some("Balance".into()),
            detail: "expected a JSON number, found the string \"abc\"".into(),
        };
        assert_eq!(
            e.to_string(),
            "Account record 8a8a0001 field Balance: expected a JSON number, \
             found the string \"abc\""
        );
        assert_eq!(e.exit_code(), exit::FAILURE);
    }

    #[test]
    fn config_errors_list_every_problem() {
        let e = Error::Config(vec!["missing [zuora] base_url".into(), "bad kind".into()]);
        assert_eq!(
            e.to_string(),
            "configuration error:\n  - missing [zuora] base_url\n  - bad kind"
        );
        assert_eq!(e.exit_code(), exit::CONFIG);
    }
}
