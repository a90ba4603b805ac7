//! The change feed's writing side: every mutation of an entity or relationship appends `changes`
//! rows in the same statement as the change (a data-modifying CTE, like [`crate::audit`]), so a
//! change and its feed row commit or roll back together. `GET /v1/changes` reads them.
//!
//! ```ignore
//! let feed = Change::entity("update", Some(&actor)).insert(&mut q, "e", Some(ENTITY_JSON));
//! let sql = format!("WITH e AS (UPDATE entities ... RETURNING *), feed AS ({feed}) SELECT ...");
//! ```

use spin_sdk::pg4::ParameterValue;

use crate::sql::Query;

/// One kind of feed row: what changed (`entity` / `relationship`), how, and by whom.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub kind: &'static str,
    /// `create`, `update`, `delete`, `restore`, `merge`, `embedding` (an entity's vector written
    /// or removed).
    pub op: &'static str,
    pub actor_id: Option<&'a str>,
}

impl<'a> Change<'a> {
    pub fn entity(op: &'static str, actor_id: Option<&'a str>) -> Change<'a> {
        Change {
            kind: "entity",
            op,
            actor_id,
        }
    }

    pub fn relationship(op: &'static str, actor_id: Option<&'a str>) -> Change<'a> {
        Change {
            kind: "relationship",
            op,
            actor_id,
        }
    }

    /// An `INSERT INTO changes ... SELECT ... FROM {source} AS {alias}` writing one row per row of
    /// the CTE `source` (with `id`, `type` and `version` columns). `document` is the SQL expression
    /// of the new document over `alias` (the entity or relationship JSON), `None` a tombstone.
    pub fn insert_as(
        &self,
        q: &mut Query,
        source: &str,
        alias: &str,
        document: Option<&str>,
    ) -> String {
        let kind = q.bind(ParameterValue::Str(self.kind.to_string()));
        let op = q.bind(ParameterValue::Str(self.op.to_string()));
        let actor = match self.actor_id {
            Some(a) => q.bind(ParameterValue::Uuid(a.to_string())),
            None => "NULL::uuid".to_string(),
        };
        let document = document.unwrap_or("NULL::jsonb");
        format!(
            "INSERT INTO changes (kind, op, resource_id, type, version, actor_id, document) \
             SELECT {kind}, {op}, {alias}.id, {alias}.type, {alias}.version, {actor}, {document} \
             FROM {source} AS {alias}"
        )
    }

    /// [`Change::insert_as`] for a CTE whose name is the alias the document expression uses.
    pub fn insert(&self, q: &mut Query, source: &str, document: Option<&str>) -> String {
        self.insert_as(q, source, source, document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_insert_binds_kind_op_and_actor_and_reads_the_source() {
        let mut q = Query::new();
        let sql = Change::entity("update", Some("0192e4a0-0000-7000-8000-000000000001")).insert(
            &mut q,
            "e",
            Some("to_jsonb(e)"),
        );
        assert_eq!(
            sql,
            "INSERT INTO changes (kind, op, resource_id, type, version, actor_id, document) \
             SELECT $1::text, $2::text, e.id, e.type, e.version, $3::uuid, to_jsonb(e) FROM e AS e"
        );
        assert_eq!(q.params().len(), 3);
    }

    #[test]
    fn a_tombstone_has_a_null_document_and_no_actor_is_null() {
        let mut q = Query::new();
        let sql = Change::relationship("delete", None).insert_as(&mut q, "gone", "r", None);
        assert!(
            sql.contains("NULL::uuid, NULL::jsonb FROM gone AS r"),
            "{sql}"
        );
    }
}
