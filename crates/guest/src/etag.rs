//! Entity tags from (id, version) and the conditional-request rules built on them:
//! `If-None-Match` on reads (304) and `If-Match` on writes (412 when stale).

/// The strong ETag of version `version` of resource `id`: `"<id>.<version>"`.
pub fn etag(id: &str, version: i64) -> String {
    format!("\"{id}.{version}\"")
}

/// What an `If-Match` header asks of a write to resource `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`: write unconditionally.
    Absent,
    /// `If-Match: *`: the resource must exist.
    Any,
    /// The tag names this resource at `version`: write only if that is still current.
    Version(i64),
    /// No tag names this resource: the precondition fails (412) if it exists.
    Never,
}

impl IfMatch {
    /// Whether a resource currently at `version` satisfies the precondition.
    pub fn allows(self, version: i64) -> bool {
        match self {
            IfMatch::Absent | IfMatch::Any => true,
            IfMatch::Version(v) => v == version,
            IfMatch::Never => false,
        }
    }
}

/// Parse `If-Match` for resource `id`. Weak tags (`W/"..."`) are compared by value too: a
/// version number identifies the representation exactly.
pub fn if_match(header: Option<&str>, id: &str) -> IfMatch {
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return IfMatch::Absent;
    };
    if header == "*" {
        return IfMatch::Any;
    }
    tags(header)
        .find_map(|tag| version_for(tag, id))
        .map_or(IfMatch::Never, IfMatch::Version)
}

/// Whether `If-None-Match` matches the current tag (`*` matches anything): answer 304.
pub fn not_modified(if_none_match: Option<&str>, current: &str) -> bool {
    let Some(header) = if_none_match.map(str::trim).filter(|h| !h.is_empty()) else {
        return false;
    };
    if header == "*" {
        return true;
    }
    let current = opaque(current);
    tags(header).any(|tag| opaque(tag) == current)
}

fn tags(header: &str) -> impl Iterator<Item = &str> {
    header.split(',').map(str::trim).filter(|t| !t.is_empty())
}

// The quoted part without a weak prefix: `W/"a.1"` → `a.1`.
fn opaque(tag: &str) -> &str {
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.trim_matches('"')
}

fn version_for(tag: &str, id: &str) -> Option<i64> {
    let (tag_id, version) = opaque(tag).rsplit_once('.')?;
    (tag_id.eq_ignore_ascii_case(id)).then_some(())?;
    version.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0192e4a0-0000-7000-8000-000000000001";

    #[test]
    fn etag_is_quoted_id_and_version() {
        assert_eq!(etag(ID, 3), format!("\"{ID}.3\""));
    }

    #[test]
    fn if_none_match_with_current_tag_is_not_modified() {
        let tag = etag(ID, 2);
        assert!(not_modified(Some(&tag), &tag));
        assert!(not_modified(Some(&format!("W/{tag}")), &tag));
        assert!(not_modified(Some(&format!("\"x.1\", {tag}")), &tag));
        assert!(not_modified(Some("*"), &tag));
        assert!(!not_modified(Some(&etag(ID, 1)), &tag));
        assert!(!not_modified(None, &tag));
    }

    #[test]
    fn if_match_names_the_expected_version() {
        assert_eq!(if_match(None, ID), IfMatch::Absent);
        assert_eq!(if_match(Some("*"), ID), IfMatch::Any);
        assert_eq!(if_match(Some(&etag(ID, 4)), ID), IfMatch::Version(4));
        assert_eq!(
            if_match(Some(&format!("W/{}", etag(ID, 4))), ID),
            IfMatch::Version(4)
        );
        assert_eq!(if_match(Some("\"other.4\""), ID), IfMatch::Never);
        assert_eq!(if_match(Some("garbage"), ID), IfMatch::Never);
        assert!(IfMatch::Version(4).allows(4));
        assert!(!IfMatch::Version(4).allows(5));
        assert!(!IfMatch::Never.allows(1));
        assert!(IfMatch::Absent.allows(9));
    }
}
