//! The SQL this component's modules share: the public shape of a user, and parameter helpers.
//! Statements are named constants next to the code that runs them, bound in order through
//! `spingraph_guest::sql::Query`; each returns one row holding one jsonb value, its timestamps
//! RFC 3339 UTC text with microseconds (`spingraph_guest::sql_timestamp!`), as entities and
//! relationships render theirs; audit rows come from `spingraph_guest::audit` (the `{audit}`
//! slot).

use serde_json::Value;
use spin_sdk::pg4::ParameterValue;
use spingraph_guest::db::Db;
use spingraph_guest::page::IdPage;
use spingraph_guest::sql::Query;
use spingraph_guest::{Ctx, Reply, Result};

/// The public shape of a user row aliased `u`, as a jsonb SQL expression (a string literal).
macro_rules! user_json {
    () => {
        concat!(
            "jsonb_build_object('id', u.id, 'email', u.email, 'role', u.role, 'active', u.active, ",
            "'locked', coalesce(u.locked_until > now(), false), ",
            spingraph_guest::sql_timestamps!(
                "locked_until" => "u.locked_until",
                "created_at" => "u.created_at",
                "updated_at" => "u.updated_at",
            ),
            ")"
        )
    };
}
pub(crate) use user_json;

pub fn uuid(id: uuid::Uuid) -> ParameterValue {
    ParameterValue::Uuid(id.to_string())
}

pub fn text(s: &str) -> ParameterValue {
    ParameterValue::Str(s.to_string())
}

/// `value`, or a NULL.
pub fn nullable(value: Option<ParameterValue>) -> ParameterValue {
    value.unwrap_or(ParameterValue::DbNull)
}

/// One page (`limit`, `cursor`) of a list in id order, the way every list of this component
/// pages: `statement` takes `params`, then the cursor's id (NULL on the first page) and the row
/// count.
pub fn id_page(
    ctx: &Ctx,
    statement: &str,
    params: impl IntoIterator<Item = ParameterValue>,
) -> Result<Reply> {
    let page = IdPage::from_query(ctx)?;
    let mut q = Query::of(params);
    q.bind(page.after_param());
    q.bind(page.limit_param());
    let items: Vec<Value> = Db::connect(ctx)?.json(statement, q.params())?;
    Ok(Reply::ok(&page.page(items)))
}

#[cfg(test)]
mod tests {
    /// RFC 3339, UTC, microseconds: what every timestamp of the API looks like.
    const MICROSECONDS: &str = r#"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#;

    #[test]
    fn users_and_api_keys_render_timestamps_with_microseconds_like_entities() {
        assert_eq!(user_json!().matches(MICROSECONDS).count(), 3);
        assert_eq!(crate::api_keys::KEY_JSON.matches(MICROSECONDS).count(), 4);
        assert!(spingraph_guest::entity_json_sql!().contains(MICROSECONDS));
    }
}
