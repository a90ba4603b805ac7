//! Postgres failures as the WIT `error` the guest receives: a server error with its fields, a
//! failed connection with its causes, anything else as text.

use std::error::Error as StdError;

use super::wit::{DbError, Error, QueryError};

/// Describes a failure to obtain a connection, with its causes.
pub(super) fn connection_failed(target: &str, err: &dyn StdError) -> Error {
    let mut message = format!("cannot connect to {target}: {}", error_chain(err));
    if message.contains("certificate") || message.contains("TLS") {
        message.push_str(
            " (a server with a self-signed certificate needs sslmode=disable in the connection string)",
        );
    }
    Error::ConnectionFailed(message)
}

pub(super) fn error_chain(err: &dyn StdError) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// A server error as the WIT `db-error`, with Spin's `as-text` (the Debug text of
/// the tokio-postgres error). Panics on errors that are not server errors.
pub(super) fn db_error(err: &tokio_postgres::Error) -> Error {
    let db = err.as_db_error().expect("a server error");
    {
        let mut extras = Vec::new();
        let mut extra = |name: &str, value: Option<&str>| {
            if let Some(value) = value {
                extras.push((name.to_string(), value.to_string()));
            }
        };
        extra("hint", db.hint());
        extra("schema", db.schema());
        extra("table", db.table());
        extra("column", db.column());
        extra("datatype", db.datatype());
        extra("constraint", db.constraint());
        extra("where", db.where_());
        extra("routine", db.routine());
        Error::QueryFailed(QueryError::DbError(DbError {
            as_text: format!("{err:?}"),
            severity: db.severity().to_string(),
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            extras,
        }))
    }
}

/// Maps a statement failure to the WIT error, as this host hands it over (under
/// `--spin-compat`, `spin_compat::statement_failed` hands it over as that Spin does).
pub(super) fn statement_failed(err: tokio_postgres::Error) -> Error {
    if err.as_db_error().is_some() {
        return db_error(&err);
    }
    let message = error_chain(&err);
    let kind = err.to_string();
    if err.is_closed()
        || [
            "error communicating with the server",
            "timeout waiting for server",
            "error connecting to server",
        ]
        .contains(&kind.as_str())
    {
        Error::ConnectionFailed(message)
    } else if kind.starts_with("error serializing parameter") {
        Error::BadParameter(message)
    } else if kind.starts_with("error deserializing column") {
        Error::ValueConversionFailed(message)
    } else {
        Error::QueryFailed(QueryError::Text(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::postgres::test_db::{connect, holding_id_1};
    use crate::capabilities::postgres::wit::ParameterValue;

    #[tokio::test]
    async fn postgres_errors_map_to_query_failed_with_code_message_and_detail() {
        let mut conn = connect(None).await;
        match conn
            .query("SELECT * FROM spingraph_no_such_table", &[])
            .await
        {
            Err(Error::QueryFailed(QueryError::DbError(db))) => {
                assert_eq!(db.code, "42P01");
                assert_eq!(db.severity, "ERROR");
                assert!(db.message.contains("spingraph_no_such_table"), "{db:?}");
            }
            other => panic!("expected a db error, got {other:?}"),
        }
        holding_id_1(&mut conn).await;
        match conn.execute("INSERT INTO t VALUES (1)", &[]).await {
            Err(Error::QueryFailed(QueryError::DbError(db))) => {
                assert_eq!(db.code, "23505");
                assert_eq!(db.detail.as_deref(), Some("Key (id)=(1) already exists."));
                assert!(
                    db.extras
                        .contains(&("constraint".to_string(), "t_pkey".to_string()))
                );
            }
            other => panic!("expected a unique violation, got {other:?}"),
        }
        // A parameter of the wrong type is a bad parameter, not a trap.
        let result = conn
            .query("SELECT $1::int4", &[ParameterValue::Str("x".into())])
            .await;
        assert!(matches!(result, Err(Error::BadParameter(_))), "{result:?}");
    }

    #[tokio::test]
    async fn without_spin_compat_errors_raised_while_a_query_runs_stay_structured() {
        let mut conn = connect(None).await;
        holding_id_1(&mut conn).await;
        match conn
            .query("INSERT INTO t VALUES (1) RETURNING id", &[])
            .await
        {
            Err(Error::QueryFailed(QueryError::DbError(db))) => assert_eq!(db.code, "23505"),
            other => panic!("expected a structured error, got {other:?}"),
        }
    }
}
