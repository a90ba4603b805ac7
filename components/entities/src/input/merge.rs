//! The bodies of `POST /v1/entities/{id}/merge` and `.../unmerge`, validated: which entities
//! are folded into the survivor (or taken back out) and what becomes of their metadata.

use serde_json::Value;
use spingraph_guest::Result;
use spingraph_guest::validate::{self, Errors, Fields};

use super::deny_rest;

/// Most entities one merge folds into another.
pub const MERGE_MAX_FROM: usize = 100;

/// What a merge does with the merged entities' metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergeMetadata {
    /// The survivor's metadata stays as it is (the default).
    #[default]
    Keep,
    /// The merged entities' keys are added, the survivor's own winning (then earlier `from`
    /// entries over later ones).
    Merge,
}

impl MergeMetadata {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeMetadata::Keep => "keep",
            MergeMetadata::Merge => "merge",
        }
    }
}

/// A validated `POST /{id}/merge` body.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeRequest {
    /// The entities folded into the survivor: distinct UUIDs, not the survivor's.
    pub from: Vec<String>,
    pub metadata: MergeMetadata,
}

/// The body of `POST /{survivor}/merge`: `{"from": [ids], "metadata": "keep" | "merge"}`.
pub fn parse_merge(body: Value, survivor: &str) -> Result<MergeRequest> {
    let obj = validate::object(body)?;
    let mut errors = Errors::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let metadata = match f.raw("metadata") {
        None => MergeMetadata::Keep,
        Some(Value::String(s)) if s == "keep" => MergeMetadata::Keep,
        Some(Value::String(s)) if s == "merge" => MergeMetadata::Merge,
        Some(_) => {
            f.error("metadata", "must be `keep` or `merge`");
            MergeMetadata::Keep
        }
    };
    let from = read_from(&mut f, survivor);
    deny_rest(&mut f);
    errors.into_result()?;
    Ok(MergeRequest { from, metadata })
}

/// A validated `POST /{id}/unmerge` body.
#[derive(Debug, Clone, PartialEq)]
pub struct UnmergeRequest {
    /// The entities merged into the survivor to bring back: distinct UUIDs, not the survivor's.
    pub from: Vec<String>,
}

/// The body of `POST /{survivor}/unmerge`: `{"from": [ids]}`.
pub fn parse_unmerge(body: Value, survivor: &str) -> Result<UnmergeRequest> {
    let obj = validate::object(body)?;
    let mut errors = Errors::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let from = read_from(&mut f, survivor);
    deny_rest(&mut f);
    errors.into_result()?;
    Ok(UnmergeRequest { from })
}

/// `from`: 1 to [`MERGE_MAX_FROM`] distinct entity ids other than `survivor`'s, each error
/// naming its index.
fn read_from(f: &mut Fields<'_>, survivor: &str) -> Vec<String> {
    let mut from = Vec::new();
    match f.raw("from") {
        None | Some(Value::Null) => f.error("from", "is required"),
        Some(Value::Array(ids)) if (1..=MERGE_MAX_FROM).contains(&ids.len()) => {
            for (i, raw) in ids.iter().enumerate() {
                let field = format!("from[{i}]");
                let Some(id) = raw.as_str().and_then(validate::uuid_str) else {
                    f.error_at(&field, "must be an entity id (a UUID)");
                    continue;
                };
                let id = id.to_string();
                if id == survivor {
                    f.error_at(&field, "is the entity the others are merged into");
                } else if let Some(j) = from.iter().position(|seen| seen == &id) {
                    f.error_at(&field, format!("repeats from[{j}]"));
                } else {
                    from.push(id);
                }
            }
        }
        Some(_) => f.error(
            "from",
            format!("must be an array of 1 to {MERGE_MAX_FROM} entity ids"),
        ),
    }
    from
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::tests::fields;
    use serde_json::json;

    #[test]
    fn merge_requests_need_distinct_ids_other_than_the_survivor() {
        const S: &str = "0192e4a0-0000-7000-8000-000000000001";
        const A: &str = "0192e4a0-0000-7000-8000-000000000002";
        let ok = parse_merge(json!({"from": [A], "metadata": "merge"}), S).unwrap();
        assert_eq!(ok.from, vec![A.to_string()]);
        assert_eq!(ok.metadata, MergeMetadata::Merge);
        assert_eq!(
            parse_merge(json!({"from": [A]}), S).unwrap().metadata,
            MergeMetadata::Keep
        );
        assert_eq!(
            fields(parse_merge(json!({"from": [A, A, S, "x"]}), S).unwrap_err()),
            vec!["from[1]", "from[2]", "from[3]"]
        );
        assert_eq!(
            fields(parse_merge(json!({"from": [], "metadata": 1}), S).unwrap_err()),
            vec!["metadata", "from"]
        );
        let many: Vec<String> = (0..=MERGE_MAX_FROM)
            .map(|i| format!("0192e4a0-0000-7000-8000-{i:012}"))
            .collect();
        assert_eq!(
            fields(parse_merge(json!({"from": many}), S).unwrap_err()),
            vec!["from"]
        );
    }

    #[test]
    fn unmerge_requests_read_from_as_merges_do_and_nothing_else() {
        const S: &str = "0192e4a0-0000-7000-8000-000000000001";
        const A: &str = "0192e4a0-0000-7000-8000-000000000002";
        assert_eq!(
            parse_unmerge(json!({"from": [A]}), S).unwrap().from,
            vec![A.to_string()]
        );
        assert_eq!(
            fields(parse_unmerge(json!({"from": [A, A, S]}), S).unwrap_err()),
            vec!["from[1]", "from[2]"]
        );
        assert_eq!(
            fields(parse_unmerge(json!({"from": [A], "metadata": "merge"}), S).unwrap_err()),
            vec!["metadata"]
        );
        assert_eq!(
            fields(parse_unmerge(json!({}), S).unwrap_err()),
            vec!["from"]
        );
    }
}
