//! Who is calling: OAuth machine-to-machine for the service principal (`POST /oidc/v1/token`
//! with HTTP Basic client credentials and `scope=all-apis`, tokens that expire after
//! `token_ttl`), a personal access token of the same principal, and a workspace admin's
//! personal access token. Also the discovery documents the SDKs read before asking for a
//! token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use rand::RngExt;
use serde_json::{Value, json};

/// The identity behind a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    /// A service principal is named by its application id, a user by their e-mail.
    pub name: String,
    /// Workspace admins may GRANT and REVOKE and pass every privilege check.
    pub admin: bool,
}

/// Why `POST /oidc/v1/token` failed: the OAuth error code and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRefusal {
    /// 401 for `invalid_client`, 400 for the rest.
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unauthenticated {
    Missing,
    Unknown,
    Expired,
}

impl Unauthenticated {
    /// The `message` of the 401 body; Databricks' exact wording is UNCONFIRMED.
    pub fn message(self) -> &'static str {
        match self {
            Unauthenticated::Missing => {
                "Credential was not sent or was of an unsupported type for this API."
            }
            Unauthenticated::Unknown => "Invalid access token.",
            Unauthenticated::Expired => "Invalid access token: the token has expired.",
        }
    }
}

const ADMIN: &str = "admin@example.com";

#[derive(Debug)]
pub(crate) struct Auth {
    client_id: String,
    client_secret: String,
    personal_access_token: String,
    admin_token: String,
    ttl: Duration,
    /// OAuth access token → expiry. Looked up only, never listed.
    tokens: Mutex<HashMap<String, Instant>>,
}

impl Auth {
    /// Fresh random credentials; nothing about them is predictable from outside.
    pub fn new(ttl: Duration) -> Auth {
        let mut rng = rand::rng();
        Auth {
            client_id: uuid(rng.random()),
            client_secret: format!("dose{:032x}", rng.random::<u128>()),
            personal_access_token: format!("dapi{:032x}", rng.random::<u128>()),
            admin_token: format!("dapi{:032x}", rng.random::<u128>()),
            ttl,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    pub fn personal_access_token(&self) -> &str {
        &self.personal_access_token
    }

    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    pub fn service_principal(&self) -> Principal {
        Principal {
            name: self.client_id.clone(),
            admin: false,
        }
    }

    pub fn admin(&self) -> Principal {
        Principal {
            name: ADMIN.to_string(),
            admin: true,
        }
    }

    /// Answers a token request from its `Authorization` and `Content-Type` headers and its
    /// form body. The client may also send its credentials in the form, as OAuth allows.
    pub fn issue(
        &self,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Value, TokenRefusal> {
        let form = content_type.is_some_and(|c| {
            let essence = c.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
        if !form {
            let detail = "The token request must be application/x-www-form-urlencoded.";
            return Err(refusal(400, "invalid_request", detail));
        }
        let fields: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        let (id, secret) = match authorization.and_then(basic_credentials) {
            Some(credentials) => credentials,
            None => (
                fields.get("client_id").cloned().unwrap_or_default(),
                fields.get("client_secret").cloned().unwrap_or_default(),
            ),
        };
        if id != self.client_id || secret != self.client_secret {
            let detail = "Client authentication failed.";
            return Err(refusal(401, "invalid_client", detail));
        }
        if fields.get("grant_type").map(String::as_str) != Some("client_credentials") {
            let detail = "Only grant_type=client_credentials is supported.";
            return Err(refusal(400, "unsupported_grant_type", detail));
        }
        // The SDKs always ask for all-apis; whether a missing scope is refused is
        // UNCONFIRMED, so the emulator insists on it.
        let scopes = fields.get("scope").map(String::as_str).unwrap_or("");
        if !scopes.split(' ').any(|s| s == "all-apis") {
            let detail = "The requested scope must include all-apis.";
            return Err(refusal(400, "invalid_scope", detail));
        }

        let token = format!(
            "{:032x}{:032x}",
            rand::rng().random::<u128>(),
            rand::rng().random::<u128>()
        );
        let expires = Instant::now() + self.ttl;
        self.tokens
            .lock()
            .expect("token lock")
            .insert(token.clone(), expires);
        // Whether the response carries `scope` is UNCONFIRMED; clients must not need it.
        Ok(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.ttl.as_secs(),
        }))
    }

    /// The principal behind an `Authorization: Bearer` header.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, Unauthenticated> {
        let token = authorization
            .and_then(|value| value.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(Unauthenticated::Missing)?;
        if token == self.personal_access_token {
            return Ok(self.service_principal());
        }
        if token == self.admin_token {
            return Ok(self.admin());
        }
        let tokens = self.tokens.lock().expect("token lock");
        match tokens.get(token) {
            Some(expires) if Instant::now() < *expires => Ok(self.service_principal()),
            Some(_) => Err(Unauthenticated::Expired),
            None => Err(Unauthenticated::Unknown),
        }
    }

    /// Every OAuth token issued so far stops working; personal access tokens keep working.
    pub fn expire_all(&self) {
        let now = Instant::now();
        for expires in self.tokens.lock().expect("token lock").values_mut() {
            *expires = now;
        }
    }
}

fn refusal(status: u16, error: &'static str, description: &str) -> TokenRefusal {
    TokenRefusal {
        status,
        error,
        description: description.to_string(),
    }
}

/// `Basic base64(id:secret)` → `(id, secret)`.
fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let (scheme, encoded) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

pub(crate) use crate::emulator::uuid;

/// `GET /.well-known/databricks-config`: where the workspace's OIDC endpoints live.
pub(crate) fn databricks_config(host: &str) -> Value {
    json!({
        "oidc_endpoint": format!("{host}/oidc"),
        "workspace_id": "1234567890123456",
    })
}

/// `GET /oidc/.well-known/oauth-authorization-server`.
pub(crate) fn authorization_server(host: &str) -> Value {
    json!({
        "issuer": format!("{host}/oidc"),
        "authorization_endpoint": format!("{host}/oidc/v1/authorize"),
        "token_endpoint": format!("{host}/oidc/v1/token"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["all-apis"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
    const BODY: &[u8] = b"grant_type=client_credentials&scope=all-apis";

    fn basic(id: &str, secret: &str) -> String {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        format!("Basic {encoded}")
    }

    #[test]
    fn client_credentials_buy_a_bearer_token_of_the_service_principal() {
        let auth = Auth::new(Duration::from_secs(3600));
        let header = basic(auth.client_id(), auth.client_secret());
        let answer = auth.issue(Some(&header), FORM, BODY).unwrap();
        assert_eq!(answer["token_type"], "Bearer");
        assert_eq!(answer["expires_in"], 3600);
        let bearer = format!("Bearer {}", answer["access_token"].as_str().unwrap());
        let principal = auth.authenticate(Some(&bearer)).unwrap();
        assert_eq!(principal.name, auth.client_id());
        assert!(!principal.admin);

        auth.expire_all();
        assert_eq!(
            auth.authenticate(Some(&bearer)),
            Err(Unauthenticated::Expired)
        );
        let pat = format!("Bearer {}", auth.personal_access_token());
        assert_eq!(
            auth.authenticate(Some(&pat)).unwrap().name,
            auth.client_id()
        );
        let admin = format!("Bearer {}", auth.admin_token());
        assert!(auth.authenticate(Some(&admin)).unwrap().admin);
    }

    #[test]
    fn refuses_bad_credentials_grants_and_scopes() {
        let auth = Auth::new(Duration::from_secs(3600));
        let wrong = basic(auth.client_id(), "nope");
        assert_eq!(
            auth.issue(Some(&wrong), FORM, BODY).unwrap_err().error,
            "invalid_client"
        );
        let right = basic(auth.client_id(), auth.client_secret());
        let no_scope = b"grant_type=client_credentials";
        assert_eq!(
            auth.issue(Some(&right), FORM, no_scope).unwrap_err().error,
            "invalid_scope"
        );
        let password = b"grant_type=password&scope=all-apis";
        assert_eq!(
            auth.issue(Some(&right), FORM, password).unwrap_err().error,
            "unsupported_grant_type"
        );
        assert_eq!(
            auth.authenticate(Some("Bearer nope")),
            Err(Unauthenticated::Unknown)
        );
        assert_eq!(auth.authenticate(None), Err(Unauthenticated::Missing));
    }
}
