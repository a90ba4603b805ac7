//! The three export formats: what frames the document (head, separator, tail) and the SQL that
//! renders one entity (`e`) or one relationship (`r`, with its ends' natural keys) as an item
//! of it. Postgres renders and escapes every item (`jsonb`'s text; GraphML's markup with
//! `xml_text!`, as `xmlelement` escapes, without needing a server built with libxml: the
//! PostgreSQL `./dev` provides has none), so the component only concatenates pages it never
//! parses.

use spingraph_guest::{entity_json_sql, relationship_json_sql, sql_timestamp};

/// An export's format (`format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object a line: a header, the entities, the relationships, an end line.
    Ndjson,
    /// GraphML 1.0: nodes and directed edges, every field a `<data>` element.
    Graphml,
    /// One JSON-LD document whose `@graph` lists the entities and relationships.
    Jsonld,
}

/// The `format` parameter's values, in [`Format`] order.
pub const NAMES: [&str; 3] = ["ndjson", "graphml", "jsonld"];

/// The NDJSON header's `format` and `version`: what `spingraph import` checks.
pub const NDJSON_FORMAT: &str = "spingraph-ndjson";
pub const NDJSON_VERSION: u32 = 1;

/// The JSON-LD vocabulary every property and type expands into.
const JSONLD_CONTEXT: &str = r#"{"@vocab":"urn:spingraph:","metadata":{"@type":"@json"},"source":{"@type":"@id"},"target":{"@type":"@id"}}"#;

/// The GraphML keys: every `<data key=...>` the items below write.
const GRAPHML_KEYS: &str = concat!(
    "  <key id=\"type\" for=\"all\" attr.name=\"type\" attr.type=\"string\"/>\n",
    "  <key id=\"name\" for=\"node\" attr.name=\"name\" attr.type=\"string\"/>\n",
    "  <key id=\"confidence\" for=\"all\" attr.name=\"confidence\" attr.type=\"double\"/>\n",
    "  <key id=\"metadata\" for=\"all\" attr.name=\"metadata\" attr.type=\"string\"><desc>JSON object</desc></key>\n",
    "  <key id=\"external_id\" for=\"node\" attr.name=\"external_id\" attr.type=\"string\"/>\n",
    "  <key id=\"owner_id\" for=\"node\" attr.name=\"owner_id\" attr.type=\"string\"/>\n",
    "  <key id=\"created_by\" for=\"edge\" attr.name=\"created_by\" attr.type=\"string\"/>\n",
    "  <key id=\"version\" for=\"all\" attr.name=\"version\" attr.type=\"long\"/>\n",
    "  <key id=\"created_at\" for=\"all\" attr.name=\"created_at\" attr.type=\"string\"/>\n",
    "  <key id=\"updated_at\" for=\"all\" attr.name=\"updated_at\" attr.type=\"string\"/>\n",
);

/// SQL text expression `$expr` (cast to text) escaped as XML character data, as `xmlelement`
/// escapes content: `&`, `<`, `>` and carriage return.
macro_rules! xml_text {
    ($expr:expr) => {
        concat!(
            "replace(replace(replace(replace((",
            $expr,
            ")::text, '&', '&amp;'), '<', '&lt;'), ",
            "'>', '&gt;'), chr(13), '&#x0d;')"
        )
    };
}

/// `<data key="k">expr</data>` as SQL text, one element per `key => expr`, each followed by
/// ` || ` (NULL content: an empty element, as `xmlelement` writes it).
macro_rules! data {
    ($($key:literal => $expr:expr),+ $(,)?) => {
        concat!($(
            "coalesce('<data key=\"", $key, "\">' || ", xml_text!($expr), " || '</data>', ",
            "'<data key=\"", $key, "\"/>') || ",
        )+)
    };
}

/// One end of relationship `r` as an EntityRef (`{type, external_id, owner_id}`), NULL when
/// that entity has no natural key; `$end` is the page's column prefix (`s` or `t`).
macro_rules! end_ref {
    ($end:literal) => {
        concat!(
            "CASE WHEN r.",
            $end,
            "_external_id IS NULL THEN NULL ELSE jsonb_build_object(",
            "'type', r.",
            $end,
            "_type, 'external_id', r.",
            $end,
            "_external_id, ",
            "'owner_id', r.",
            $end,
            "_owner_id) END"
        )
    };
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        let formats = [Format::Ndjson, Format::Graphml, Format::Jsonld];
        NAMES.iter().position(|n| *n == name).map(|i| formats[i])
    }

    pub fn name(self) -> &'static str {
        NAMES[self as usize]
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Graphml => "application/graphml+xml",
            Format::Jsonld => "application/ld+json",
        }
    }

    /// The file name offered in `Content-Disposition`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Ndjson => "spingraph-export.ndjson",
            Format::Graphml => "spingraph-export.graphml",
            Format::Jsonld => "spingraph-export.jsonld",
        }
    }

    /// What comes before the first item. `header` is the NDJSON header line's object.
    pub fn head(self, header: &serde_json::Value) -> String {
        match self {
            Format::Ndjson => header.to_string(),
            Format::Graphml => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n\
                 {GRAPHML_KEYS}  <graph id=\"spingraph\" edgedefault=\"directed\">\n"
            ),
            Format::Jsonld => format!("{{\"@context\":{JSONLD_CONTEXT},\"@graph\":[\n"),
        }
    }

    /// Whether the head is itself an item (NDJSON's header line), so the first page follows a
    /// separator.
    pub fn head_is_item(self) -> bool {
        self == Format::Ndjson
    }

    /// Between two items (and so between two pages of items).
    pub fn separator(self) -> &'static str {
        match self {
            Format::Ndjson | Format::Graphml => "\n",
            Format::Jsonld => ",\n",
        }
    }

    /// What comes after the last item; `end` is the NDJSON end line's object, which counts what
    /// was written so a reader can tell a whole export from a cut one.
    pub fn tail(self, end: &serde_json::Value) -> String {
        match self {
            Format::Ndjson => format!("\n{end}\n"),
            Format::Graphml => "\n  </graph>\n</graphml>\n".to_string(),
            Format::Jsonld => "\n]}\n".to_string(),
        }
    }

    /// One entity `e` as an item, a `text` SQL expression.
    pub fn entity_item(self) -> &'static str {
        match self {
            Format::Ndjson => concat!(
                "(jsonb_build_object('kind', 'entity') || ",
                entity_json_sql!(),
                ")::text"
            ),
            Format::Graphml => concat!(
                "('    <node id=\"' || e.id || '\">' || ",
                data!("type" => "e.type", "name" => "e.name", "confidence" => "e.confidence",
                      "metadata" => "e.metadata::text"),
                "coalesce('<data key=\"external_id\">' || ",
                xml_text!("e.external_id"),
                " || '</data>', '') || ",
                data!("owner_id" => "e.owner_id", "version" => "e.version",
                      "created_at" => sql_timestamp!("e.created_at"),
                      "updated_at" => sql_timestamp!("e.updated_at")),
                "'</node>')::text"
            ),
            Format::Jsonld => concat!(
                "(jsonb_build_object('@id', 'urn:uuid:' || e.id, '@type', 'Entity') || ",
                entity_json_sql!(),
                ")::text"
            ),
        }
    }

    /// One relationship `r` (a page row carrying `s_type`, `s_external_id`, `s_owner_id` and
    /// the same of `t`, its ends) as an item, a `text` SQL expression.
    pub fn relationship_item(self) -> &'static str {
        match self {
            Format::Ndjson => concat!(
                "(jsonb_build_object('kind', 'relationship', 'source', ",
                end_ref!("s"),
                ", 'target', ",
                end_ref!("t"),
                ") || ",
                relationship_json_sql!(),
                ")::text"
            ),
            Format::Graphml => concat!(
                "('    <edge id=\"' || r.id || '\" source=\"' || r.source_id || ",
                "'\" target=\"' || r.target_id || '\">' || ",
                data!("type" => "r.type", "confidence" => "r.confidence",
                      "metadata" => "r.metadata::text", "created_by" => "r.created_by",
                      "version" => "r.version", "created_at" => sql_timestamp!("r.created_at"),
                      "updated_at" => sql_timestamp!("r.updated_at")),
                "'</edge>')::text"
            ),
            Format::Jsonld => concat!(
                "(",
                relationship_json_sql!(),
                " || jsonb_build_object('@id', 'urn:uuid:' || r.id, '@type', 'Relationship', ",
                "'source', 'urn:uuid:' || r.source_id, 'target', 'urn:uuid:' || r.target_id))::text"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ALL: [Format; 3] = [Format::Ndjson, Format::Graphml, Format::Jsonld];

    #[test]
    fn every_name_parses_to_its_format_and_nothing_else_does() {
        for (name, format) in NAMES.iter().zip(ALL) {
            assert_eq!(Format::parse(name), Some(format));
            assert_eq!(format.name(), *name);
        }
        for bad in ["", "NDJSON", "csv", "json"] {
            assert_eq!(Format::parse(bad), None, "{bad}");
        }
    }

    /// The document an export of `items` would be: head, items joined, tail.
    fn document(format: Format, items: &[&str]) -> String {
        let mut out = format.head(&json!({"kind": "header"}));
        if format.head_is_item() && !items.is_empty() {
            out.push_str(format.separator());
        }
        out.push_str(&items.join(format.separator()));
        out + format.tail(&json!({"kind": "end"})).as_str()
    }

    #[test]
    fn an_ndjson_export_is_one_json_object_a_line_header_first_end_last() {
        let doc = document(Format::Ndjson, &[r#"{"kind":"entity"}"#, r#"{"kind":"x"}"#]);
        let kinds: Vec<String> = doc
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].to_string())
            .collect();
        assert_eq!(kinds, [r#""header""#, r#""entity""#, r#""x""#, r#""end""#]);
        assert!(doc.ends_with('\n'));
        let empty = document(Format::Ndjson, &[]);
        assert_eq!(empty.lines().count(), 2, "{empty}");
    }

    #[test]
    fn a_jsonld_export_is_one_json_document_with_or_without_items() {
        for items in [
            &[][..],
            &[r#"{"@id":"urn:uuid:1"}"#, r#"{"@id":"urn:uuid:2"}"#][..],
        ] {
            let doc = document(Format::Jsonld, items);
            let parsed: serde_json::Value = serde_json::from_str(&doc).unwrap();
            assert_eq!(parsed["@graph"].as_array().unwrap().len(), items.len());
            assert_eq!(parsed["@context"]["@vocab"], "urn:spingraph:");
        }
    }

    #[test]
    fn graphml_declares_every_key_its_items_write() {
        let declared: Vec<&str> = GRAPHML_KEYS
            .split("<key id=\"")
            .skip(1)
            .map(|k| k.split('"').next().unwrap())
            .collect();
        for item in [
            Format::Graphml.entity_item(),
            Format::Graphml.relationship_item(),
        ] {
            for used in item.split("<data key=\"").skip(1) {
                let key = used.split('"').next().unwrap();
                assert!(declared.contains(&key), "undeclared GraphML key {key}");
            }
        }
        let doc = document(Format::Graphml, &[]);
        assert!(doc.starts_with("<?xml") && doc.trim_end().ends_with("</graphml>"));
    }

    #[test]
    fn every_item_is_text_and_names_only_its_own_row() {
        for format in ALL {
            let (entity, relationship) = (format.entity_item(), format.relationship_item());
            assert!(entity.ends_with("::text") && relationship.ends_with("::text"));
            assert!(!entity.contains("r."), "{entity}");
            assert!(!relationship.contains("e."), "{relationship}");
        }
    }
}
