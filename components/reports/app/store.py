"""Postgres through `spin:postgres@4.0.0`, as the role `spingraph_reports` (the `database_url`
variable; migrations/20261207150000_reports_role.up.sql grants it only what it reads). Written for
the released Spins (SPEC §2): the query returns exactly one row whose one column is `jsonb`, so
neither a zero-row result nor a `timestamptz` column crosses the boundary, and every statement runs
under `statement_timeout_ms` (a `-c statement_timeout=` connection option, as
crates/guest/src/db.rs sets it)."""

import json
from urllib.parse import quote

from componentize_py_types import Err
from wit_world.imports import postgres as pg

from errors import ApiError

DEFAULT_STATEMENT_TIMEOUT_MS = 5000

# Live entities of one owner, counted by type. Live is what every read of the entities component
# serves by default: not soft-deleted. A merged entity is soft-deleted by its merge
# (entities_merged_into_check), so `deleted_at IS NULL` leaves out merged ones too.
TYPE_COUNTS_SQL = """
SELECT coalesce(jsonb_agg(jsonb_build_object('type', t.type, 'count', t.n)
                          ORDER BY t.type COLLATE "C"), '[]'::jsonb) AS j
FROM (SELECT e.type, count(*) AS n
      FROM entities e
      WHERE e.owner_id = $1::uuid AND e.deleted_at IS NULL
      GROUP BY e.type) t
"""

# SQLSTATE classes of a database that cannot answer now (connection exceptions, cancels and
# shutdowns, insufficient resources): 503. Anything else is this component's bug: 500.
_UNAVAILABLE_CLASSES = ("08", "53", "57")


def with_statement_timeout(url, ms):
    """`url` with `-c statement_timeout=<ms>` in its `options` parameter (0: unbounded)."""
    if ms <= 0:
        return url
    setting = quote(f"-c statement_timeout={ms}", safe="")
    if "?" not in url:
        return f"{url}?options={setting}"
    base, query = url.split("?", 1)
    params = query.split("&")
    for i, param in enumerate(params):
        if param.startswith("options="):
            params[i] = f"{param}%20{setting}"
            return f"{base}?{'&'.join(params)}"
    return f"{url}&options={setting}"


def connect(ctx):
    url = ctx.var("database_url")
    if url is None:
        raise ApiError.unavailable("configuration", "variable `database_url` is not set")
    raw = ctx.var("statement_timeout_ms") or str(DEFAULT_STATEMENT_TIMEOUT_MS)
    try:
        timeout = int(raw)
    except ValueError:
        raise ApiError.unavailable(
            "configuration", f"variable `statement_timeout_ms` is not a number: {raw!r}"
        ) from None
    try:
        return pg.Connection.open(with_statement_timeout(url, timeout))
    except Err as e:
        raise ApiError.unavailable("Postgres", _describe(e.value)) from None


def type_counts(conn, owner_id):
    """`[{"type": ..., "count": ...}]` of `owner_id`'s live entities, by type."""
    try:
        rows = conn.query(TYPE_COUNTS_SQL, [pg.ParameterValue_Uuid(owner_id)])
    except Err as e:
        raise _query_error(e.value) from None
    return _json_cell(rows.rows[0][0])


def _json_cell(cell):
    if isinstance(cell, (pg.DbValue_Jsonb, pg.DbValue_Unsupported, pg.DbValue_Binary)):
        return json.loads(bytes(cell.value))
    if isinstance(cell, pg.DbValue_Str):
        return json.loads(cell.value)
    raise ApiError.internal_error(f"query result column is not jsonb: {cell!r}")


def _query_error(error):
    detail = _describe(error)
    if isinstance(error, pg.Error_ConnectionFailed):
        return ApiError.unavailable("Postgres", detail)
    if isinstance(error, pg.Error_QueryFailed):
        failure = error.value
        if isinstance(failure, pg.QueryError_DbError):
            code = failure.value.code
        else:
            # Spin 4.0.2 flattens an error raised while a query runs into the Debug text of
            # tokio-postgres's error (`code: SqlState(E57014)`); Spin 3.6.3 may drop the code.
            text = failure.value
            marker = text.find("SqlState(E")
            code = text[marker + 10 : marker + 15] if marker >= 0 else None
        if code is None or code[:2] in _UNAVAILABLE_CLASSES:
            return ApiError.unavailable("Postgres", detail)
    return ApiError.internal_error(f"postgres: {detail}")


def _describe(error):
    value = getattr(error, "value", error)
    if isinstance(value, pg.QueryError_DbError):
        return value.value.as_text
    return f"{type(error).__name__}: {getattr(value, 'value', value)}"
