//! `GET /v1/changes`: the change feed (rows written by `spingraph_guest::changes`), in
//! transaction order, with a cursor that never skips a change committed later.
//!
//! Why it cannot skip: a page holds only rows of transactions older than every transaction still
//! in flight (`txid < pg_snapshot_xmin(pg_current_snapshot())`, each row recording its
//! transaction's `xid8`), ordered by `(txid, seq)`. Every row a later read could still find
//! belongs to a transaction at or above that horizon, so it sorts after the cursor.
//! `wait=1..30` polls until something arrives or the time passes, holding no Postgres session
//! between looks, and only within the caps on concurrent waits ([`list`]).
//!
//! A change's `document` is shown only to a reader that could GET it directly: entity documents
//! need `entities:read`, relationship documents `relationships:read` (or the write scope);
//! otherwise the change comes with `document: null` and `withheld: true` ([`withhold`]).

use serde_json::{Value, json};
use spin_sdk::pg4::ParameterValue;
use spingraph_authn_client::{require_read_scope, require_scope_or_admin};
use spingraph_guest::db::Db;
use spingraph_guest::page::{DEFAULT_LIMIT, MAX_LIMIT};
use spingraph_guest::routes::Call;
use spingraph_guest::slots::Slots;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::validate::Errors;
use spingraph_guest::{Ctx, Reply, Result, sql_timestamp};
use spingraph_identity::{Principal, Scope};

/// The variable capping how long a long poll waits (seconds), whatever `wait` asked for.
pub const MAX_WAIT_VARIABLE: &str = "change_feed_max_wait_seconds";
/// Its default: under the host's default 30 s request limit.
const DEFAULT_MAX_WAIT_SECONDS: u64 = 25;
/// The variable capping concurrent long polls of one user (all their credentials together).
pub const MAX_WAITERS_PER_USER_VARIABLE: &str = "change_feed_max_waiters_per_user";
const DEFAULT_MAX_WAITERS_PER_USER: u64 = 4;
/// The variable capping concurrent long polls in the deployment.
pub const MAX_WAITERS_VARIABLE: &str = "change_feed_max_waiters";
const DEFAULT_MAX_WAITERS: u64 = 64;
/// Pauses between looks while waiting: the first, doubling up to the longest.
const FIRST_PAUSE_MS: u64 = 100;
const MAX_PAUSE_MS: u64 = 1000;
/// A wait's slot lease outlasts the wait by this much (a slot never given back lapses then).
const LEASE_MARGIN_MS: u64 = 5000;
/// The values `types` accepts.
const KINDS: [&str; 2] = ["entity", "relationship"];

/// A feed position: the last change served, `<txid>.<seq>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub txid: u64,
    pub seq: i64,
}

impl Cursor {
    pub fn parse(raw: &str) -> Option<Cursor> {
        let (txid, seq) = raw.split_once('.')?;
        Some(Cursor {
            txid: txid.parse().ok()?,
            seq: seq.parse().ok().filter(|s: &i64| *s >= 1)?,
        })
    }
}

/// A validated `GET /v1/changes` query.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRequest {
    pub after: Option<Cursor>,
    pub limit: u32,
    pub kinds: Option<Vec<String>>,
    pub wait_seconds: u64,
}

impl FeedRequest {
    /// `after`, `limit`, `types`, `wait` from the query string; a bad value is a 400 naming it.
    pub fn parse(param: impl Fn(&str) -> Option<String>) -> Result<FeedRequest> {
        let mut errors = Errors::new();
        let after = match param("after").filter(|a| !a.is_empty()) {
            None => None,
            Some(raw) => {
                let cursor = Cursor::parse(&raw);
                if cursor.is_none() {
                    errors.push("after", "is not a cursor the feed returned");
                }
                cursor
            }
        };
        let limit = match param("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push("limit", format!("must be an integer from 1 to {MAX_LIMIT}"));
                    DEFAULT_LIMIT
                }
            },
        };
        let kinds = param("types").map(|raw| {
            let kinds: Vec<String> = raw.split(',').map(|k| k.trim().to_string()).collect();
            if kinds.iter().any(|k| !KINDS.contains(&k.as_str())) {
                errors.push("types", "must be a comma list of `entity`, `relationship`");
            }
            kinds
        });
        let wait_seconds = match param("wait") {
            None => 0,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(n) if (1..=30).contains(&n) => n,
                _ => {
                    errors.push("wait", "must be an integer from 1 to 30 (seconds)");
                    0
                }
            },
        };
        errors.into_query_result()?;
        Ok(FeedRequest {
            after,
            limit,
            kinds,
            wait_seconds,
        })
    }
}

/// `changes:read` (an API key's scope) or admin: a plain user's bearer token cannot follow every
/// change, which would show other owners' writes as they happen.
pub fn require_reader(p: &Principal) -> Result<()> {
    require_scope_or_admin(p, Scope::ChangesRead, "Reading the change feed")
}

/// Whether `p` may read the documents of changes of `kind` (`entity` or `relationship`).
pub fn may_read_documents(p: &Principal, kind: &str) -> bool {
    let (read, write) = match kind {
        "entity" => (Scope::EntitiesRead, Scope::EntitiesWrite),
        "relationship" => (Scope::RelationshipsRead, Scope::RelationshipsWrite),
        _ => return false,
    };
    require_read_scope(p, read, write).is_ok()
}

/// Leave out the document of every change `p` could not GET directly: `document` becomes
/// `null` (as a tombstone's) and `withheld: true` says why.
pub fn withhold(p: &Principal, items: &mut [Value]) {
    for item in items {
        let kind = item["kind"].as_str().unwrap_or_default();
        if !item["document"].is_null() && !may_read_documents(p, kind) {
            item["document"] = Value::Null;
            item["withheld"] = Value::Bool(true);
        }
    }
}

/// `GET /v1/changes` → 200 `{items, next_cursor}`; `next_cursor` is where to resume (the
/// request's own `after` when nothing new was served).
///
/// A long poll holds no Postgres session while it waits: each look is one short query on a
/// session taken for it and given back, and the pauses between looks are the guest's own
/// sleeps. Waiting needs a slot ([`waiters`]): past `change_feed_max_waiters_per_user` waits of
/// one user, or `change_feed_max_waiters` in the deployment, the request is a 429 at once. When
/// Redis cannot be asked, the request answers without waiting (no cap could hold).
pub fn list(c: &Call, p: &Principal) -> Result<Reply> {
    require_reader(p)?;
    let ctx = c.ctx;
    let request = FeedRequest::parse(|name| ctx.query_param(name))?;
    let cap = ctx
        .config
        .parse_or(MAX_WAIT_VARIABLE, DEFAULT_MAX_WAIT_SECONDS)?;
    let wait_ms = request.wait_seconds.min(cap) * 1000;
    let started = ctx.elapsed_ms();
    let mut items = look(ctx, &request)?;
    if items.is_empty() && wait_ms > 0 {
        let slots = waiters(ctx)?;
        match slots.take(ctx, &p.user_id.to_string(), wait_ms + LEASE_MARGIN_MS) {
            Ok(Ok(_slot)) => {
                let mut pause = FIRST_PAUSE_MS;
                loop {
                    let waited = ctx.elapsed_ms().saturating_sub(started);
                    if !items.is_empty() || waited >= wait_ms {
                        break;
                    }
                    let nap = pause.min(wait_ms - waited);
                    std::thread::sleep(std::time::Duration::from_millis(nap));
                    pause = (pause * 2).min(MAX_PAUSE_MS);
                    items = look(ctx, &request)?;
                }
            }
            Ok(Err(full)) => return Err(full.error()),
            Err(e) => ctx.warn(
                "change feed answered without waiting",
                json!({"reason": e.internal_detail()}),
            ),
        }
    }
    withhold(p, &mut items);
    let next = items
        .last()
        .and_then(|last| last["cursor"].as_str().map(str::to_string))
        .or_else(|| {
            request
                .after
                .as_ref()
                .map(|c| format!("{}.{}", c.txid, c.seq))
        });
    Ok(Reply::ok(&json!({ "items": items, "next_cursor": next })))
}

/// The caps on concurrent long polls, from `change_feed_max_waiters_per_user` and
/// `change_feed_max_waiters`.
fn waiters(ctx: &Ctx) -> Result<Slots> {
    Ok(Slots {
        kind: "changes",
        realm: spingraph_authn_client::realm(ctx),
        per_principal: ctx
            .config
            .parse_or(MAX_WAITERS_PER_USER_VARIABLE, DEFAULT_MAX_WAITERS_PER_USER)?
            .max(1),
        total: ctx
            .config
            .parse_or(MAX_WAITERS_VARIABLE, DEFAULT_MAX_WAITERS)?
            .max(1),
    })
}

/// One look at the feed, on a session held only for its one statement.
fn look(ctx: &Ctx, request: &FeedRequest) -> Result<Vec<Value>> {
    let db = Db::connect(ctx)?;
    page(&db, request)
}

/// One page of changes: `{where}` over `c` (parameters bound by the caller), at most `{limit}`
/// (a bound row count), in feed order.
const PAGE: &str = concat!(
    "SELECT coalesce(jsonb_agg(jsonb_build_object('cursor', p.txid::text || '.' || p.seq, ",
    "'seq', p.seq, 'kind', p.kind, 'op', p.op, 'id', p.resource_id, 'type', p.type, ",
    "'version', p.version, 'actor_id', p.actor_id, 'at', ",
    sql_timestamp!("p.at"),
    ", 'document', p.document) ORDER BY p.txid, p.seq), '[]'::jsonb) AS j ",
    "FROM (SELECT * FROM changes c {where} ORDER BY c.txid, c.seq LIMIT {limit}) p"
);

/// One page of changes after the cursor, below the in-flight horizon.
fn page(db: &Db, request: &FeedRequest) -> Result<Vec<Value>> {
    let mut q = Query::new();
    q.filter("c.txid < pg_snapshot_xmin(pg_current_snapshot())");
    if let Some(after) = &request.after {
        let txid = q.bind(ParameterValue::Str(after.txid.to_string()));
        let seq = q.bind(ParameterValue::Int64(after.seq));
        q.filter(format!("(c.txid, c.seq) > ({txid}::xid8, {seq})"));
    }
    // One kind: an equality the `(kind, txid, seq)` index serves in feed order. Both kinds are
    // every row: no condition.
    if let Some(kinds) = &request.kinds {
        let mut kinds: Vec<&String> = kinds.iter().collect();
        kinds.sort();
        kinds.dedup();
        if let [kind] = kinds[..] {
            let kind = q.bind(ParameterValue::Str(kind.clone()));
            q.filter(format!("c.kind = {kind}"));
        }
    }
    let limit = q.bind(ParameterValue::Int64(i64::from(request.limit)));
    let statement = fill(PAGE, &[("where", &q.where_clause()), ("limit", &limit)]);
    db.json(&statement, q.params())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<FeedRequest> {
        FeedRequest::parse(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_a_400() {
        let r = parse(&[("after", "812.44"), ("types", "entity"), ("wait", "3")]).unwrap();
        assert_eq!(r.after, Some(Cursor { txid: 812, seq: 44 }));
        assert_eq!(r.kinds, Some(vec!["entity".to_string()]));
        assert_eq!(r.wait_seconds, 3);
        for bad in [
            ("after", "x"),
            ("after", "1.0"),
            ("wait", "31"),
            ("wait", "0"),
            ("types", "user"),
            ("limit", "0"),
        ] {
            assert_eq!(parse(&[bad]).unwrap_err().status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn documents_are_withheld_from_readers_that_could_not_get_them() {
        use spingraph_identity::{Credential, Role};
        let changes = || {
            vec![
                json!({"kind": "entity", "id": "e", "document": {"name": "Ada"}}),
                json!({"kind": "relationship", "id": "r", "document": {"type": "knows"}}),
                json!({"kind": "entity", "id": "d", "document": null}),
            ]
        };
        let key = |scopes: &[Scope]| Principal::for_tests(Role::Admin, Credential::ApiKey, scopes);
        let mut items = changes();
        withhold(&key(&[Scope::ChangesRead]), &mut items);
        assert!(items.iter().all(|i| i["document"].is_null()));
        assert_eq!(items[0]["withheld"], true);
        assert_eq!(items[1]["withheld"], true);
        assert!(
            items[2].get("withheld").is_none(),
            "a tombstone stays a tombstone"
        );

        let mut items = changes();
        withhold(&key(&[Scope::ChangesRead, Scope::EntitiesRead]), &mut items);
        assert_eq!(items[0]["document"]["name"], "Ada");
        assert!(items[1]["document"].is_null() && items[1]["withheld"] == true);

        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        let mut items = changes();
        withhold(&admin, &mut items);
        assert_eq!(items, changes());
    }

    #[test]
    fn readers_need_the_changes_scope_or_admin() {
        use spingraph_identity::{Credential, Role};
        let key = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::EntitiesRead]);
        assert_eq!(require_reader(&key).unwrap_err().status(), 403);
        let key = Principal::for_tests(Role::User, Credential::ApiKey, &[Scope::ChangesRead]);
        assert!(require_reader(&key).is_ok());
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        assert_eq!(require_reader(&user).unwrap_err().status(), 403);
        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        assert!(require_reader(&admin).is_ok());
    }
}
