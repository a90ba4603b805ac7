//! The database side of an export: the audit row, then one read-only repeatable-read
//! transaction every page is read in, so the export is the graph as of one instant however
//! many pages it takes.

use serde::Deserialize;
use serde_json::json;
use spin_sdk::pg4::{DbValue, ParameterValue};
use spingraph_guest::audit::Audit;
use spingraph_guest::db::{Db, decode_json_cell};
use spingraph_guest::history;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Result};

use crate::document::{Kind, PAGE_ROWS, Page, Source};
use crate::format::Format;
use crate::input::ExportRequest;
use crate::sql;

/// Records who exported what (`graph.export`); its own statement, before the snapshot opens.
const AUDIT: &str = "WITH x AS (SELECT NULL::uuid AS id), log AS ({audit}) SELECT '{}'::jsonb AS j";

/// An open snapshot and the statements of its format.
pub struct Snapshot {
    db: Db,
    types: ParameterValue,
    separator: &'static str,
    entity_page: String,
    relationship_page: String,
    /// The snapshot's instant, RFC 3339.
    pub taken_at: String,
}

/// The audit row of an export by `audit`'s actor.
pub fn audit(db: &Db, audit: &Audit, request: &ExportRequest) -> Result<()> {
    let mut q = Query::new();
    let mut details = json!({
        "format": request.format.name(),
        "types": request.types,
    });
    if let Some(t) = &request.as_of {
        details["as_of"] = json!(t.instant());
    }
    let log = audit.insert_one(&mut q, "graph.export", "graph", "x", Some(&details));
    db.value(&fill(AUDIT, &[("audit", &log)]), q.params())
        .map(|_| ())
}

impl Snapshot {
    /// Open the snapshot on `db` (which then holds its transaction until the snapshot is
    /// dropped or [`Snapshot::close`]d).
    pub fn open(db: Db, request: &ExportRequest) -> Result<Snapshot> {
        db.execute(sql::BEGIN_SNAPSHOT, &[])?;
        let taken_at: String = db.json(sql::SNAPSHOT_AT, &[])?;
        let types = match &request.types {
            Some(types) => ParameterValue::Jsonb(
                serde_json::to_vec(types).map_err(|e| ApiError::internal(e.to_string()))?,
            ),
            None => ParameterValue::DbNull,
        };
        let format: Format = request.format;
        let as_of = request.as_of.as_ref();
        Ok(Snapshot {
            db,
            types,
            separator: format.separator(),
            entity_page: history::scoped(
                as_of,
                &fill(sql::ENTITY_PAGE, &[("item", format.entity_item())]),
            )
            .into_owned(),
            relationship_page: history::scoped(
                as_of,
                &fill(
                    sql::RELATIONSHIP_PAGE,
                    &[("item", format.relationship_item())],
                ),
            )
            .into_owned(),
            taken_at,
        })
    }

    /// End the read-only transaction.
    pub fn close(self) -> Result<()> {
        self.db.execute("COMMIT", &[]).map(|_| ())
    }
}

impl Source for Snapshot {
    fn page(&mut self, kind: Kind, after: &str) -> Result<Page> {
        let statement = match kind {
            Kind::Entities => &self.entity_page,
            Kind::Relationships => &self.relationship_page,
        };
        let params = [
            ParameterValue::Uuid(after.to_string()),
            self.types.clone(),
            ParameterValue::Int64(PAGE_ROWS.into()),
            ParameterValue::Str(self.separator.to_string()),
        ];
        let mut cells = self.db.row(statement, &params)?.into_iter();
        #[derive(Deserialize)]
        struct Counted {
            rows: u32,
            last: Option<String>,
        }
        let meta = cells
            .next()
            .ok_or_else(|| ApiError::internal("export page without columns"))?;
        let Counted { rows, last } = serde_json::from_value(decode_json_cell(&meta)?)
            .map_err(|e| ApiError::internal(format!("export page: {e}")))?;
        let body = match cells.next() {
            Some(DbValue::Str(text)) => text,
            Some(DbValue::DbNull) => String::new(),
            other => {
                return Err(ApiError::internal(format!(
                    "export page body is not text: {other:?}"
                )));
            }
        };
        Ok(Page { rows, last, body })
    }
}
