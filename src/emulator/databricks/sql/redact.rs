//! The statement text as the statement log may keep it: the values of temporary credentials
//! (`AWS_ACCESS_KEY = '...'` and the like) become `'REDACTED'`, and a statement that cannot
//! even be tokenized loses everything from its first CREDENTIAL on.

use super::lexer::{Kind, tokenize};

/// Keys whose values are secrets in `WITH (CREDENTIAL (...))` and `ENCRYPTION (...)`.
const SECRET_KEYS: [&str; 5] = [
    "aws_access_key",
    "aws_secret_key",
    "aws_session_token",
    "azure_sas_token",
    "master_key",
];

pub(crate) fn redact(sql: &str) -> String {
    let Ok(tokens) = tokenize(sql) else {
        return cut_at_credential(sql);
    };
    let mut redacted = String::with_capacity(sql.len());
    let mut copied = 0;
    for window in tokens.windows(3) {
        let [key, equals, value] = window else {
            continue;
        };
        let secret = key.kind == Kind::Word
            && SECRET_KEYS.iter().any(|k| key.text.eq_ignore_ascii_case(k))
            && equals.is_symbol("=")
            && value.kind == Kind::String;
        if secret {
            redacted.push_str(&sql[copied..value.at]);
            redacted.push_str("'REDACTED'");
            copied = value.end;
        }
    }
    redacted.push_str(&sql[copied..]);
    redacted
}

fn cut_at_credential(sql: &str) -> String {
    match sql.to_ascii_lowercase().find("credential") {
        Some(at) => format!("{}CREDENTIAL REDACTED", &sql[..at]),
        None => sql.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_values_never_reach_the_log() {
        let sql = "COPY INTO t FROM 's3://b/p/' WITH (CREDENTIAL (AWS_ACCESS_KEY = 'AKIA1', \
                   aws_secret_key = \"s3cr'et\", AWS_SESSION_TOKEN = 'tok' 'en')) \
                   FILEFORMAT = PARQUET";
        let redacted = redact(sql);
        for secret in ["AKIA1", "s3cr", "tok", "en'"] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
        assert_eq!(redacted.matches("'REDACTED'").count(), 3, "{redacted}");
        assert!(redacted.starts_with("COPY INTO t FROM 's3://b/p/'"));
        assert!(redacted.ends_with("FILEFORMAT = PARQUET"));
    }

    #[test]
    fn untokenizable_text_is_cut_at_the_credential() {
        let sql = "COPY INTO t FROM 's3://b/' WITH (CREDENTIAL (AWS_SECRET_KEY = 'unterminated";
        let redacted = redact(sql);
        assert!(!redacted.contains("unterminated"));
        assert!(redacted.ends_with("CREDENTIAL REDACTED"));
    }
}
