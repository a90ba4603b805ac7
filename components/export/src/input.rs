//! What a client asks of `GET /v1/export`: `format`, `types` and `as_of`. Any other parameter is
//! a 400 naming it, so a reader never gets a different export than the one asked for.

use spingraph_guest::Result;
use spingraph_guest::history::{self, AsOf};
use spingraph_guest::record::TYPE_MAX_CHARS;
use spingraph_guest::validate::{self, Errors};

use crate::format::{self, Format};

/// The most entity types one export may name.
pub const MAX_TYPES: usize = 100;

/// A validated export request.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRequest {
    pub format: Format,
    /// The entity types kept (and the relationships between them); `None`: everything.
    pub types: Option<Vec<String>>,
    /// The graph as it was then (checked against the history horizon once connected).
    pub as_of: Option<AsOf>,
}

impl ExportRequest {
    /// From the query's `(name, value)` pairs; every problem is a 400 naming its parameter.
    pub fn parse(pairs: &[(String, String)]) -> Result<ExportRequest> {
        let mut errors = Errors::new();
        let mut request = ExportRequest {
            format: Format::Ndjson,
            types: None,
            as_of: None,
        };
        for (name, value) in pairs {
            match name.as_str() {
                "format" => match Format::parse(value) {
                    Some(format) => request.format = format,
                    None => errors.push(
                        "format",
                        format!("must be one of {}", format::NAMES.join(", ")),
                    ),
                },
                "types" => request.types = Some(types(&mut errors, value)),
                history::PARAM => request.as_of = AsOf::parse(&mut errors, Some(value)),
                other => errors.push(other, "is not a parameter of this operation"),
            }
        }
        errors.into_query_result()?;
        Ok(request)
    }
}

/// `types=a,b`: distinct, each a valid type name.
fn types(errors: &mut Errors, raw: &str) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for kind in raw.split(',').map(str::trim) {
        validate::check_text(errors, "types", kind, TYPE_MAX_CHARS);
        if !kept.iter().any(|k| k == kind) {
            kept.push(kind.to_string());
        }
    }
    if kept.len() > MAX_TYPES {
        errors.push("types", format!("must name at most {MAX_TYPES} types"));
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use spingraph_guest::ApiError;

    fn parse(query: &[(&str, &str)]) -> Result<ExportRequest> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ExportRequest::parse(&pairs)
    }

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::InvalidQuery(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not a 400 naming fields: {other:?}"),
        }
    }

    #[test]
    fn no_parameters_is_the_whole_graph_as_ndjson() {
        assert_eq!(
            parse(&[]).unwrap(),
            ExportRequest {
                format: Format::Ndjson,
                types: None,
                as_of: None,
            }
        );
    }

    #[test]
    fn types_are_trimmed_and_repeats_dropped() {
        let request = parse(&[("format", "graphml"), ("types", "person, org,person")]).unwrap();
        assert_eq!(request.format, Format::Graphml);
        assert_eq!(request.types.unwrap(), ["person", "org"]);
    }

    #[test]
    fn as_of_is_an_instant_in_utc() {
        let request = parse(&[("as_of", "2026-01-01T02:00:00+02:00")]).unwrap();
        assert_eq!(
            request.as_of.unwrap().instant(),
            "2026-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn a_bad_value_or_an_unknown_parameter_is_named() {
        assert_eq!(fields(parse(&[("format", "csv")]).unwrap_err()), ["format"]);
        assert_eq!(fields(parse(&[("types", "a,,b")]).unwrap_err()), ["types"]);
        let long = "x".repeat(TYPE_MAX_CHARS + 1);
        assert_eq!(fields(parse(&[("types", &long)]).unwrap_err()), ["types"]);
        assert_eq!(
            fields(parse(&[("as_of", "last week")]).unwrap_err()),
            ["as_of"]
        );
        assert_eq!(
            fields(parse(&[("since", "2026-01-01")]).unwrap_err()),
            ["since"]
        );
        let many: Vec<String> = (0..=MAX_TYPES).map(|i| format!("t{i}")).collect();
        assert_eq!(
            fields(parse(&[("types", &many.join(","))]).unwrap_err()),
            ["types"]
        );
    }
}
