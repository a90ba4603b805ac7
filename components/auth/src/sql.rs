//! SQL fragments shared by the queries of this component. Every query returns one row holding
//! one jsonb value and carries timestamps as RFC 3339 text (the released-Spin rules).

use spin_sdk::pg4::ParameterValue;

/// `col` as RFC 3339 UTC text (microseconds, like every timestamp of the API), or NULL.
pub fn ts(col: &str) -> String {
    spingraph_guest::db::timestamp_sql(col)
}

/// The public shape of a user row aliased `u`.
pub fn user_json() -> String {
    format!(
        "jsonb_build_object('id', u.id, 'email', u.email, 'role', u.role, 'active', u.active, \
         'locked', coalesce(u.locked_until > now(), false), 'locked_until', {}, \
         'created_at', {}, 'updated_at', {})",
        ts("u.locked_until"),
        ts("u.created_at"),
        ts("u.updated_at")
    )
}

pub fn uuid(id: uuid::Uuid) -> ParameterValue {
    ParameterValue::Uuid(id.to_string())
}

pub fn text(s: &str) -> ParameterValue {
    ParameterValue::Str(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_as_utc_rfc3339_text() {
        assert_eq!(
            ts("u.created_at"),
            r#"to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#
        );
    }
}
