//! OAuth client credentials as Zuora runs them: `POST /oauth/token` with a form body trades the
//! tenant's client id and secret for a bearer token that lasts `token_ttl`, and every other
//! route accepts only a token that was issued here and has not expired on the emulator clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::generate::uuid;
use super::tenant::format_id;

/// The body of every 401: the SDK documents `{"message": "Authentication error"}` for bad or
/// expired tokens; the literal body for a bad client secret is UNCONFIRMED, so it is the same.
pub(crate) const AUTHENTICATION_ERROR: &str = "{\"message\":\"Authentication error\"}";

/// Why a token request failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Wrong client id, secret or grant type: 401.
    Credentials,
    /// Not a form body: 400 with this message.
    Malformed(String),
}

#[derive(Debug)]
pub(crate) struct Auth {
    client_id: String,
    client_secret: String,
    ttl: Duration,
    scope: String,
    /// Token → expiry. Looked up, never iterated into a response, so hash order is harmless.
    tokens: Mutex<HashMap<String, DateTime<Utc>>>,
    rng: Mutex<ChaCha8Rng>,
}

impl Auth {
    pub fn new(seed: u64, client_id: String, client_secret: String, ttl: Duration) -> Auth {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0a07_70ce_2000_0002);
        let (user, entity): (u128, u128) = (rng.random(), rng.random());
        let scope = format!(
            "user.{} entity.{} entity.{}.read tenant.{}",
            format_id(user),
            uuid(entity),
            uuid(entity),
            seed % 100_000
        );
        Auth {
            client_id,
            client_secret,
            ttl,
            scope,
            tokens: Mutex::new(HashMap::new()),
            rng: Mutex::new(rng),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// Answers a token request: `content_type` and the raw form body as received.
    pub fn issue(
        &self,
        content_type: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<String, Refusal> {
        let form = content_type.is_some_and(|c| {
            c.split(';').next().unwrap_or("").trim() == "application/x-www-form-urlencoded"
        });
        if !form {
            return Err(Refusal::Malformed(
                "the token request must be application/x-www-form-urlencoded".into(),
            ));
        }
        let (mut id, mut secret, mut grant) = (None, None, None);
        for (name, value) in form_urlencoded::parse(body) {
            match &*name {
                "client_id" => id = Some(value),
                "client_secret" => secret = Some(value),
                "grant_type" => grant = Some(value),
                _ => {}
            }
        }
        let valid = id.as_deref() == Some(self.client_id.as_str())
            && secret.as_deref() == Some(self.client_secret.as_str())
            && grant.as_deref() == Some("client_credentials");
        if !valid {
            return Err(Refusal::Credentials);
        }

        let (token, jti) = {
            let mut rng = self.rng.lock().expect("token rng lock");
            (format_id(rng.random()), format_id(rng.random()))
        };
        let expires = now + TimeDelta::from_std(self.ttl).unwrap_or(TimeDelta::MAX);
        self.tokens
            .lock()
            .expect("token lock")
            .insert(token.clone(), expires);
        let body = serde_json::json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.ttl.as_secs(),
            "scope": self.scope,
            "jti": jti,
        });
        Ok(body.to_string())
    }

    /// Whether an `Authorization` header carries a live token.
    pub fn accepts(&self, authorization: Option<&str>, now: DateTime<Utc>) -> bool {
        let token = authorization.and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
        let Some(token) = token else { return false };
        let tokens = self.tokens.lock().expect("token lock");
        tokens.get(token).is_some_and(|&expires| now < expires)
    }

    /// Every token issued so far stops working at `now`.
    pub fn expire_all(&self, now: DateTime<Utc>) {
        for expires in self.tokens.lock().expect("token lock").values_mut() {
            *expires = (*expires).min(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    fn auth() -> Auth {
        Auth::new(
            7,
            "id-1".into(),
            "s3cret/+=".into(),
            Duration::from_secs(3599),
        )
    }

    fn token(json: &str) -> String {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        value["access_token"].as_str().unwrap().to_string()
    }

    #[test]
    fn issues_a_bearer_token_that_expires_after_the_ttl() {
        let auth = auth();
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let body = b"grant_type=client_credentials&client_id=id-1&client_secret=s3cret%2F%2B%3D";
        let json = auth.issue(FORM, body, now).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["token_type"], "bearer");
        assert_eq!(value["expires_in"], 3599);
        let token = token(&json);
        assert_eq!(token.len(), 32);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );

        let header = format!("Bearer {token}");
        assert!(auth.accepts(Some(&header), now + TimeDelta::seconds(3598)));
        assert!(!auth.accepts(Some(&header), now + TimeDelta::seconds(3599)));
        assert!(!auth.accepts(Some("Bearer 0123"), now));
        assert!(!auth.accepts(Some(&token), now));
        assert!(!auth.accepts(None, now));
    }

    #[test]
    fn refuses_wrong_credentials_grant_and_content_type() {
        let auth = auth();
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let wrong = [
            &b"grant_type=client_credentials&client_id=id-1&client_secret=nope"[..],
            b"grant_type=password&client_id=id-1&client_secret=s3cret%2F%2B%3D",
            b"client_id=id-1&client_secret=s3cret%2F%2B%3D",
        ];
        for body in wrong {
            assert_eq!(auth.issue(FORM, body, now), Err(Refusal::Credentials));
        }
        let json = Some("application/json");
        assert!(matches!(
            auth.issue(json, b"{}", now),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn expire_all_ends_every_issued_token() {
        let auth = auth();
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let body = b"grant_type=client_credentials&client_id=id-1&client_secret=s3cret%2F%2B%3D";
        let header = format!("Bearer {}", token(&auth.issue(FORM, body, now).unwrap()));
        auth.expire_all(now);
        assert!(!auth.accepts(Some(&header), now));
        let fresh = format!("Bearer {}", token(&auth.issue(FORM, body, now).unwrap()));
        assert!(auth.accepts(Some(&fresh), now));
    }
}
