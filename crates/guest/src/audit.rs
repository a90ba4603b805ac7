//! The audit trail, its one writer: every mutation writes `audit_log` rows (actor, action, resource, request id,
//! time) in the same statement as the change, as a data-modifying CTE, so a change and its audit
//! row commit or roll back together in one round trip.
//!
//! ```ignore
//! let audit = Audit::by(ctx, &actor);
//! let mut q = Query::of([ParameterValue::Uuid(new_id)]);
//! let log = audit.insert_one(&mut q, "entity.create", "entity", "ins", None);
//! // INSERT: "WITH ins AS (INSERT INTO entities ... RETURNING *), log AS ({audit}) SELECT ..."
//! let sql = sql::fill(INSERT, &[("audit", &log)]);
//! ```

use serde_json::Value;
use spin_sdk::pg4::ParameterValue;

use crate::context::Ctx;
use crate::sql::Query;

/// Who did it and in which request.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    pub actor_id: Option<&'a str>,
    pub request_id: &'a str,
}

impl<'a> Audit<'a> {
    pub fn new(actor_id: Option<&'a str>, request_id: &'a str) -> Audit<'a> {
        Audit {
            actor_id,
            request_id,
        }
    }

    /// What `actor` (a user id) does in the request of `ctx`.
    pub fn by(ctx: &'a Ctx, actor: &'a str) -> Audit<'a> {
        Audit::new(Some(actor), &ctx.request_id)
    }

    /// An `INSERT INTO audit_log ... SELECT ... FROM {source}` writing one row per row of the CTE
    /// `source` (which has an `id` column: the resource id). Each row's id is `source.audit_id`
    /// when `per_row_ids` (generated in the guest, one per resource), else one fresh UUIDv7
    /// (for a source of at most one row). `details` is stored as jsonb (or `{}`).
    pub fn insert(
        &self,
        q: &mut Query,
        action: &str,
        resource_type: &str,
        source: &str,
        per_row_ids: bool,
        details: Option<&Value>,
    ) -> String {
        let id = if per_row_ids {
            format!("{source}.audit_id")
        } else {
            q.bind(ParameterValue::Uuid(uuid::Uuid::now_v7().to_string()))
        };
        self.write(q, &id, action, resource_type, source, |q| {
            q.bind(ParameterValue::Jsonb(
                details
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "{}".into())
                    .into_bytes(),
            ))
        })
    }

    /// [`Audit::insert_one`] whose `details` are computed by Postgres: `details` is a jsonb SQL
    /// expression over `source` (`jsonb_build_object('revoked', fam.revoked)`).
    pub fn insert_computed(
        &self,
        q: &mut Query,
        action: &str,
        resource_type: &str,
        source: &str,
        details: &str,
    ) -> String {
        let id = q.bind(ParameterValue::Uuid(uuid::Uuid::now_v7().to_string()));
        self.write(q, &id, action, resource_type, source, |_| {
            details.to_string()
        })
    }

    /// The statement, binding actor, action, resource type and request id (then what `details`
    /// binds) in that order.
    fn write(
        &self,
        q: &mut Query,
        id: &str,
        action: &str,
        resource_type: &str,
        source: &str,
        details: impl FnOnce(&mut Query) -> String,
    ) -> String {
        let actor = match self.actor_id {
            Some(a) => q.bind(ParameterValue::Uuid(a.to_string())),
            None => "NULL::uuid".to_string(),
        };
        let action = q.bind(ParameterValue::Str(action.to_string()));
        let resource_type = q.bind(ParameterValue::Str(resource_type.to_string()));
        let request_id = q.bind(ParameterValue::Str(self.request_id.to_string()));
        let details = details(q);
        format!(
            "INSERT INTO audit_log (id, actor_id, action, resource_type, resource_id, request_id, at, details) \
             SELECT {id}, {actor}, {action}, {resource_type}, {source}.id, {request_id}, now(), {details} FROM {source}"
        )
    }

    /// [`Audit::insert`] for a source of at most one row.
    pub fn insert_one(
        &self,
        q: &mut Query,
        action: &str,
        resource_type: &str,
        source: &str,
        details: Option<&Value>,
    ) -> String {
        self.insert(q, action, resource_type, source, false, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_insert_binds_every_value_and_reads_the_resource_from_the_source() {
        let mut q = Query::new();
        let first = q.bind(ParameterValue::Str("x".into()));
        assert_eq!(first, "$1::text");
        let sql = Audit::new(Some("0192e4a0-0000-7000-8000-000000000001"), "rid-1").insert_one(
            &mut q,
            "entity.update",
            "entity",
            "upd",
            Some(&serde_json::json!({"fields": ["name"]})),
        );
        assert_eq!(
            sql,
            "INSERT INTO audit_log (id, actor_id, action, resource_type, resource_id, request_id, at, details) \
             SELECT $2::uuid, $3::uuid, $4::text, $5::text, upd.id, $6::text, now(), $7::jsonb FROM upd"
        );
        assert_eq!(q.params().len(), 7);
    }

    #[test]
    fn batch_audit_uses_per_row_ids_and_anonymous_actor_is_null() {
        let mut q = Query::new();
        let sql =
            Audit::new(None, "rid").insert(&mut q, "entity.create", "entity", "ins", true, None);
        assert!(
            sql.contains("SELECT ins.audit_id, NULL::uuid, $1::text"),
            "{sql}"
        );
    }

    #[test]
    fn computed_details_are_sql_over_the_source_and_bind_nothing() {
        let mut q = Query::new();
        let sql = Audit::new(None, "rid").insert_computed(
            &mut q,
            "user.logout",
            "refresh_family",
            "fam",
            "jsonb_build_object('revoked', fam.revoked)",
        );
        assert!(
            sql.ends_with(
                "SELECT $1::uuid, NULL::uuid, $2::text, $3::text, fam.id, $4::text, now(), \
                 jsonb_build_object('revoked', fam.revoked) FROM fam"
            ),
            "{sql}"
        );
        assert_eq!(q.params().len(), 4);
    }
}
