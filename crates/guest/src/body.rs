//! Request bodies: size cap (413), content type (415), malformed JSON (400), and serde's
//! type / missing / unknown-field errors turned into 422 field errors.

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use spin_sdk::http::Request;

use crate::context::header;
use crate::error::{ApiError, FieldError, Result};

/// Default body cap (SPEC §4: 64 KiB).
pub const DEFAULT_LIMIT: usize = 64 * 1024;
/// Body cap of batch endpoints (SPEC §4: 1 MiB).
pub const BATCH_LIMIT: usize = 1024 * 1024;

/// For an optional field that may be left out but not sent as `null` (serde reads `null` into
/// `None` otherwise): `#[serde(default, deserialize_with = "body::present")]`.
pub fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// The request's JSON body as `T`, capped at [`DEFAULT_LIMIT`].
pub fn json<T: DeserializeOwned>(req: &Request) -> Result<T> {
    json_with_limit(req, DEFAULT_LIMIT)
}

/// The request's JSON body as `T`, capped at `limit` bytes.
pub fn json_with_limit<T: DeserializeOwned>(req: &Request, limit: usize) -> Result<T> {
    parse_json(header(req, "content-type"), req.body(), limit)
}

/// Check the size, then the content type, then parse.
pub fn parse_json<T: DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
    limit: usize,
) -> Result<T> {
    check_size(body, limit)?;
    if !content_type.is_some_and(is_json) {
        return Err(ApiError::UnsupportedMediaType {
            expected: "application/json",
        });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "The request body is empty; JSON expected.",
        ));
    }
    // Syntax first (400), then shape (422): read straight from the bytes, serde_json reports
    // some well-formed values of the wrong type (`null` for an enum) as syntax errors.
    let document: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON: {e}.")))?;
    serde_path_to_error::deserialize(document).map_err(json_error)
}

/// 413 when the body exceeds `limit` bytes.
pub fn check_size(body: &[u8], limit: usize) -> Result<()> {
    if body.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    Ok(())
}

/// `application/json` or any `application/*+json`, parameters (charset) ignored.
pub fn is_json(content_type: &str) -> bool {
    let mime = media_type(content_type);
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// The lower-cased media type without parameters: `Application/JSON; charset=utf-8` → `application/json`.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let message = strip_position(&inner.to_string());
    let parent = if path == "." { String::new() } else { path };
    let join = |name: &str| {
        if parent.is_empty() {
            name.to_string()
        } else {
            format!("{parent}.{name}")
        }
    };
    let field_error = if let Some(name) = quoted_after(&message, "unknown field `") {
        // The path already ends at the unknown key.
        let field = if parent == name || parent.ends_with(&format!(".{name}")) {
            parent.clone()
        } else {
            join(name)
        };
        FieldError::new(field, "unknown field")
    } else if let Some(name) = quoted_after(&message, "missing field `") {
        FieldError::new(join(name), "is required")
    } else {
        let field = if parent.is_empty() {
            "body".to_string()
        } else {
            parent.clone()
        };
        FieldError::new(field, message.clone())
    };
    ApiError::Validation(vec![field_error])
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

// serde_json appends " at line L column C"; field errors name the field instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => message[..i].to_string(),
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        confidence: Option<f64>,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        depth: u8,
    }

    fn parse(body: &str) -> Result<Item> {
        parse_json(Some("application/json"), body.as_bytes(), DEFAULT_LIMIT)
    }

    #[test]
    fn oversized_body_is_413() {
        let body = vec![b' '; DEFAULT_LIMIT + 1];
        let err = parse_json::<Item>(Some("application/json"), &body, DEFAULT_LIMIT).unwrap_err();
        assert_eq!(
            err,
            ApiError::PayloadTooLarge {
                limit: DEFAULT_LIMIT
            }
        );
    }

    #[test]
    fn wrong_or_missing_content_type_is_415() {
        for ct in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let err = parse_json::<Item>(ct, br#"{"name":"a"}"#, DEFAULT_LIMIT).unwrap_err();
            assert_eq!(err.status(), 415);
        }
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
    }

    #[test]
    fn malformed_json_is_400() {
        for body in [
            "{",
            "{\"name\":}",
            "",
            "{\"name\":\"a\",",
            "{\"name\":\"a\"} x",
        ] {
            assert_eq!(parse(body).unwrap_err().status(), 400, "{body}");
        }
    }

    #[test]
    fn unknown_field_is_422_naming_it() {
        let err = parse(r#"{"name":"a","colour":"red"}"#).unwrap_err();
        assert_eq!(
            err,
            ApiError::Validation(vec![FieldError::new("colour", "unknown field")])
        );
        let err = parse(r#"{"name":"a","inner":{"depth":1,"x":2}}"#).unwrap_err();
        assert_eq!(
            err,
            ApiError::Validation(vec![FieldError::new("inner.x", "unknown field")])
        );
    }

    #[test]
    fn missing_field_is_422_naming_it() {
        let err = parse(r#"{"confidence":0.5}"#).unwrap_err();
        assert_eq!(
            err,
            ApiError::Validation(vec![FieldError::new("name", "is required")])
        );
    }

    #[test]
    fn wrong_type_is_422_naming_the_field() {
        match parse(r#"{"name":"a","confidence":"high"}"#).unwrap_err() {
            ApiError::Validation(errors) => {
                assert_eq!(errors[0].field, "confidence");
                assert!(errors[0].message.contains("invalid type"), "{errors:?}");
                assert!(!errors[0].message.contains("line"), "{errors:?}");
            }
            other => panic!("{other:?}"),
        }
        match parse(r#""just a string""#).unwrap_err() {
            ApiError::Validation(errors) => assert_eq!(errors[0].field, "body"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn valid_body_parses() {
        let item = parse(r#" {"name":"a","confidence":0.5,"inner":{"depth":2}} "#).unwrap();
        assert_eq!(item.name, "a");
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Flags {
        #[serde(default, deserialize_with = "present")]
        active: Option<bool>,
    }

    #[test]
    fn present_fields_may_be_left_out_but_not_null() {
        let ct = Some("application/json");
        let absent: Flags = parse_json(ct, b"{}", DEFAULT_LIMIT).unwrap();
        assert_eq!(absent.active, None);
        let set: Flags = parse_json(ct, br#"{"active": false}"#, DEFAULT_LIMIT).unwrap();
        assert_eq!(set.active, Some(false));
        let err = parse_json::<Flags>(ct, br#"{"active": null}"#, DEFAULT_LIMIT).unwrap_err();
        assert_eq!(err.status(), 422, "{err:?}");
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Tier {
        Gold,
    }

    #[derive(Debug, Deserialize)]
    struct WithTier {
        #[allow(dead_code)]
        tier: Tier,
    }

    #[test]
    fn null_or_number_for_an_enum_is_422_not_malformed_json() {
        let ct = Some("application/json");
        assert!(parse_json::<WithTier>(ct, br#"{"tier": "gold"}"#, DEFAULT_LIMIT).is_ok());
        for body in [&br#"{"tier": null}"#[..], br#"{"tier": 3}"#] {
            let err = parse_json::<WithTier>(ct, body, DEFAULT_LIMIT).unwrap_err();
            assert_eq!(err.status(), 422, "{err:?}");
        }
    }
}
