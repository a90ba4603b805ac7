//! What clients send to this component, read and checked: sign-in credentials (JSON or the
//! OAuth2 form), the refresh token (body, form or cookie), new and patched users, new API keys.
//! Each answers every broken field at once (422) or names the malformed request (400).

use serde::Deserialize;
use spin_sdk::http::Request;
use spingraph_authn_client::Principal;
use spingraph_guest::context::{self, header};
use spingraph_guest::validate::{has_control, rfc3339_utc};
use spingraph_guest::{ApiError, FieldError, Result, body};
use spingraph_identity::session::{
    CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE, cookie, cookie_count, csrf_ok,
};
use spingraph_identity::{Role, Scope};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCredentials {
    email: String,
    password: String,
}

pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// `{email, password}` JSON, or `grant_type=password&username=..&password=..` form.
pub fn credentials(req: &Request) -> Result<Credentials> {
    if let Some(form) = form(req)? {
        let get = |name: &str| field(&form, name);
        match get("grant_type").as_deref() {
            Some("password") | None => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "unsupported_grant_type: this endpoint accepts grant_type=password.",
                ));
            }
        }
        let mut errors = Vec::new();
        let email = get("username").filter(|v| !v.is_empty());
        let password = get("password").filter(|v| !v.is_empty());
        if email.is_none() {
            errors.push(spingraph_guest::FieldError::new("username", "is required"));
        }
        if password.is_none() {
            errors.push(spingraph_guest::FieldError::new("password", "is required"));
        }
        return match (email, password) {
            (Some(email), Some(password)) => Ok(Credentials { email, password }),
            _ => Err(ApiError::Validation(errors)),
        };
    }
    let c: JsonCredentials = body::json(req)?;
    if c.email.trim().is_empty() {
        return Err(ApiError::invalid("email", "is required"));
    }
    if c.password.is_empty() {
        return Err(ApiError::invalid("password", "is required"));
    }
    Ok(Credentials {
        email: c.email,
        password: c.password,
    })
}

/// The pairs of an `application/x-www-form-urlencoded` body (invalid UTF-8 replaced), decoded.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    context::form_pairs(&String::from_utf8_lossy(body))
}

/// The pairs of the request's body when it is a form (the OAuth2 flavour of the sign-in and
/// refresh requests), within the body limit; `None` for any other content type.
fn form(req: &Request) -> Result<Option<Vec<(String, String)>>> {
    let content_type = header(req, "content-type").unwrap_or("");
    if body::media_type(content_type) != "application/x-www-form-urlencoded" {
        return Ok(None);
    }
    body::check_size(req.body(), body::DEFAULT_LIMIT)?;
    Ok(Some(form_pairs(req.body())))
}

/// The first value of `name` in a form.
fn field(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
    #[serde(default, deserialize_with = "body::present")]
    grant_type: Option<String>,
}

/// A refresh token as presented: in the body (JSON or form), or in the browser session's cookie,
/// whose rotation answers with new cookies.
pub enum Presentation {
    Body(String),
    Cookie(String),
}

impl Presentation {
    pub fn token(&self) -> &str {
        match self {
            Presentation::Body(token) | Presentation::Cookie(token) => token,
        }
    }
}

/// The refresh token of the request: an explicit body, or the browser session's cookie (which
/// then needs the CSRF double submit like every cookie-authenticated unsafe request).
pub fn presented_refresh_token(req: &Request) -> Result<Presentation> {
    if let Some(form) = form(req)? {
        let get = |name: &str| field(&form, name);
        if get("grant_type").is_some_and(|g| g != "refresh_token") {
            return Err(ApiError::bad_request(
                "unsupported_grant_type: this endpoint accepts grant_type=refresh_token.",
            ));
        }
        return match get("refresh_token").filter(|t| !t.is_empty()) {
            Some(t) => Ok(Presentation::Body(t)),
            None => Err(ApiError::invalid("refresh_token", "is required")),
        };
    }
    if !req.body().iter().all(u8::is_ascii_whitespace) {
        let b: RefreshBody = body::json(req)?;
        if b.grant_type.is_some_and(|g| g != "refresh_token") {
            return Err(ApiError::invalid("grant_type", "must be refresh_token"));
        }
        if b.refresh_token.is_empty() {
            return Err(ApiError::invalid("refresh_token", "is required"));
        }
        return Ok(Presentation::Body(b.refresh_token));
    }
    let cookies = header(req, "cookie").unwrap_or("");
    if cookie_count(cookies, REFRESH_COOKIE) > 1 {
        // one of them was planted by another host of the site (a `Domain` cookie): which is
        // ours cannot be told, so neither is used
        return Err(ApiError::bad_request(
            "More than one session refresh cookie was sent; sign in again.",
        ));
    }
    match cookie(cookies, REFRESH_COOKIE) {
        Some(t) => {
            if !csrf_ok(cookie(cookies, CSRF_COOKIE), header(req, CSRF_HEADER)) {
                return Err(ApiError::forbidden(
                    "Cookie-authenticated requests that change state need an X-CSRF-Token header matching the __Host-sg_csrf cookie.",
                ));
            }
            Ok(Presentation::Cookie(t.to_string()))
        }
        None => Err(ApiError::unauthorized("A refresh token is required.")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    #[serde(default, deserialize_with = "body::present")]
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "body::present")]
    pub active: Option<bool>,
}

/// A trimmed, lower-cased address of plausible shape, or a 422.
pub fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let plausible = (3..=320).contains(&email.chars().count())
        && !email.chars().any(|c| c.is_control() || c.is_whitespace())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if plausible {
        Ok(email)
    } else {
        Err(ApiError::invalid("email", "must be an email address"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, deserialize_with = "body::present")]
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "body::present")]
    pub active: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

/// A validated `POST /api-keys` body: a name, distinct scopes within what `owner`'s role allows,
/// an optional RFC 3339 expiry (checked against the clock by the insert).
pub struct ValidKey {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<String>,
}

/// `POST /api-keys`'s body for `owner`; every broken field at once (422).
pub fn new_key(req: &Request, owner: &Principal) -> Result<ValidKey> {
    let new: NewKey = body::json(req)?;
    let mut errors = Vec::new();
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 128 || has_control(&name) {
        errors.push(FieldError::new(
            "name",
            "must be 1 to 128 characters without control characters",
        ));
    }
    if new.scopes.is_empty() {
        errors.push(FieldError::new("scopes", "must name at least one scope"));
    }
    let mut scopes: Vec<Scope> = Vec::new();
    for (i, raw) in new.scopes.iter().enumerate() {
        match raw.parse::<Scope>() {
            Err(_) => errors.push(FieldError::new(
                format!("scopes[{i}]"),
                "is not a known scope",
            )),
            Ok(scope) if !owner.role.scopes().contains(&scope) => errors.push(FieldError::new(
                format!("scopes[{i}]"),
                "exceeds what your role allows",
            )),
            Ok(scope) if !scopes.contains(&scope) => scopes.push(scope),
            Ok(_) => {}
        }
    }
    // Normalized to UTC: Postgres reads every valid RFC 3339 instant in that form.
    let expires_at = new.expires_at.as_deref().map(rfc3339_utc);
    if expires_at == Some(None) {
        errors.push(FieldError::new(
            "expires_at",
            "must be an RFC 3339 timestamp",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(ValidKey {
        name,
        scopes,
        expires_at: expires_at.flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_pairs_decode_plus_and_percent() {
        let pairs = form_pairs(b"grant_type=password&username=a%40b.c&password=p+w%26");
        assert_eq!(
            pairs,
            vec![
                ("grant_type".to_string(), "password".to_string()),
                ("username".to_string(), "a@b.c".to_string()),
                ("password".to_string(), "p w&".to_string()),
            ]
        );
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_shape_checked() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in ["", "a", "@x", "x@", "a b@c", "a@b@c", "a\u{0}@b"] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }
}
