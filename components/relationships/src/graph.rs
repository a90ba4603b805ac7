//! `/v1/graph/...`: neighbors of an entity and the shortest path between two, each answered by
//! one bounded breadth-first statement (see `sql::NEIGHBORS` and `sql::PATH`) that visits every
//! node at most once and reads at most `sql::MAX_EDGES_VISITED` relationships, so cycles and
//! hubs cannot make it blow up. A neighbors walk that spends that budget answers what it found,
//! flagged `truncated`; a path search that spends it without reaching `to` is a 422 (it cannot
//! say "no path"), naming the parameters that narrow it.
//!
//! Nodes are entity documents only for callers that may read entities: a `relationships:read`
//! key sees each node as `{id, type, depth}` (see [`visible_nodes`]).

use serde_json::{Value, json};
use spingraph_guest::db::{Db, ParameterValue};
use spingraph_guest::history::{self, AsOf};
use spingraph_guest::record;
use spingraph_guest::routes::Call;
use spingraph_guest::validate::{self, Errors};
use spingraph_guest::{ApiError, Reply, Result};

use spingraph_authn_client::Principal;

use crate::access;
use crate::sql;

/// `depth` of a neighbors walk: 1..=3, default 1.
pub const MAX_NEIGHBOR_DEPTH: i32 = 3;
/// `max_depth` of a path search: 1..=6, default 6.
pub const MAX_PATH_DEPTH: i32 = 6;
/// `limit` (nodes in a neighbors answer, the start included): 1..=1000, default 100.
pub use spingraph_guest::walk::{DEFAULT_NODES, Direction, MAX_NODES};
/// Nodes a path search keeps per level (its frontier bound).
pub const PATH_LEVEL_CAP: i32 = 10_000;

/// Parameters of `GET /v1/graph/neighbors/{entity_id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighborsQuery {
    pub depth: i32,
    pub direction: Direction,
    pub kind: Option<String>,
    pub limit: i32,
}

impl NeighborsQuery {
    /// `depth` 1..=3 (default 1), `direction` out|in|both (default both), `type`, `limit`
    /// 1..=1000 (default 100). Unparsable values are 400, out-of-range ones 422.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<NeighborsQuery> {
        let mut p = Params::new(&get);
        let depth = p.int("depth", 1, 1, MAX_NEIGHBOR_DEPTH);
        let direction = p.direction(Direction::Both);
        let kind = p.kind();
        let limit = p.int("limit", DEFAULT_NODES, 1, MAX_NODES);
        p.finish()?;
        Ok(NeighborsQuery {
            depth,
            direction,
            kind,
            limit,
        })
    }
}

/// Parameters of `GET /v1/graph/path`.
#[derive(Debug, Clone, PartialEq)]
pub struct PathQuery {
    pub from: String,
    pub to: String,
    pub max_depth: i32,
    pub direction: Direction,
    pub kind: Option<String>,
}

impl PathQuery {
    /// `from`, `to` (entity ids, required), `max_depth` 1..=6 (default 6), `direction`
    /// out|in|both (default out: along relationships), `type`.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<PathQuery> {
        let mut p = Params::new(&get);
        let from = p.uuid("from");
        let to = p.uuid("to");
        let max_depth = p.int("max_depth", MAX_PATH_DEPTH, 1, MAX_PATH_DEPTH);
        let direction = p.direction(Direction::Out);
        let kind = p.kind();
        p.finish()?;
        Ok(PathQuery {
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
            max_depth,
            direction,
            kind,
        })
    }
}

/// `{nodes, edges, truncated}`: nodes nearest first (each with its `depth`), the start at depth 0,
/// at most `limit` of them; edges are the visible relationships among them.
pub fn neighbors(c: &Call, caller: &Principal) -> Result<Reply> {
    access::require_read(caller)?;
    let ctx = c.ctx;
    let id = validate::uuid_str(c.param("entity_id")).ok_or_else(no_entity)?;
    let q = NeighborsQuery::parse(|name| ctx.query_param(name))?;
    let out = walk(
        c,
        sql::NEIGHBORS,
        q.direction,
        q.kind,
        [
            ParameterValue::Uuid(id.to_string()),
            ParameterValue::Int32(q.depth),
            ParameterValue::Int32(q.limit),
            ParameterValue::DbNull,
        ],
        &[ParameterValue::Int64(sql::MAX_EDGES)],
    )?;
    if out["found"] != Value::Bool(true) {
        return Err(no_entity());
    }
    Ok(Reply::ok(&json!({
        "nodes": visible_nodes(caller, &out["nodes"]),
        "edges": out["edges"],
        "truncated": out["truncated"],
    })))
}

/// `{nodes, edges, length}`: the shortest path from `from` to `to`, in order; 404 when either
/// entity is missing or no path of at most `max_depth` relationships exists.
pub fn path(c: &Call, caller: &Principal) -> Result<Reply> {
    access::require_read(caller)?;
    let ctx = c.ctx;
    let q = PathQuery::parse(|name| ctx.query_param(name))?;
    let out = walk(
        c,
        sql::PATH,
        q.direction,
        q.kind,
        [
            ParameterValue::Uuid(q.from.clone()),
            ParameterValue::Int32(q.max_depth),
            ParameterValue::Int32(PATH_LEVEL_CAP),
            ParameterValue::Uuid(q.to.clone()),
        ],
        &[],
    )?;
    for end in ["from", "to"] {
        if out[end] != Value::Bool(true) {
            return Err(ApiError::not_found(format!(
                "No entity {} (it does not exist or is deleted).",
                if end == "from" { &q.from } else { &q.to }
            )));
        }
    }
    let Some(nodes) = out["nodes"].as_array().filter(|n| !n.is_empty()) else {
        if out["budget_spent"] == Value::Bool(true) {
            return Err(walk_too_costly());
        }
        return Err(ApiError::not_found(format!(
            "No path from {} to {} within {} relationships.",
            q.from, q.to, q.max_depth
        )));
    };
    Ok(Reply::ok(&json!({
        "length": nodes.len() - 1,
        "nodes": visible_nodes(caller, &out["nodes"]),
        "edges": out["edges"],
    })))
}

/// Run a walk statement (`bfs!`'s parameters: $1 `start`, $2 `direction`, $3 `kind`, $4–$6 the
/// rest of `bounds`, $7 the relationship budget, then `extra`), as of the request's `as_of` when
/// it has one.
fn walk(
    c: &Call,
    statement: &str,
    direction: Direction,
    kind: Option<String>,
    bounds: [ParameterValue; 4],
    extra: &[ParameterValue],
) -> Result<Value> {
    let db = Db::connect(c.ctx)?;
    let as_of = AsOf::read(c.ctx, &db, false)?;
    let walk = sql::walk(statement, kind.is_some());
    let statement = history::scoped(as_of.as_ref(), &walk);
    let [start, b4, b5, b6] = bounds;
    let mut params = vec![
        start,
        ParameterValue::Str(direction.as_str().into()),
        optional_str(kind),
        b4,
        b5,
        b6,
        ParameterValue::Int64(sql::MAX_EDGES_VISITED),
    ];
    params.extend_from_slice(extra);
    db.value(&statement, &params)
}

/// What of a walk's nodes `caller` may see: whole entity documents for callers that may read
/// entities, else each node's `id`, `type` and `depth` only (the walk's shape without the
/// entities' names, metadata, owners and external ids).
pub fn visible_nodes(caller: &Principal, nodes: &Value) -> Value {
    if access::entities_visible(caller) {
        return nodes.clone();
    }
    let Some(nodes) = nodes.as_array() else {
        return nodes.clone();
    };
    nodes
        .iter()
        .map(|n| json!({"id": n["id"], "type": n["type"], "depth": n["depth"]}))
        .collect()
}

/// A path search that read its whole relationship budget without reaching `to`.
fn walk_too_costly() -> ApiError {
    ApiError::invalid(
        "max_depth",
        format!(
            "the search reads more than {} relationships without reaching `to`; \
             narrow it with type= or a smaller max_depth",
            sql::MAX_EDGES_VISITED
        ),
    )
}

fn no_entity() -> ApiError {
    ApiError::not_found("No such entity (it does not exist or is deleted).")
}

fn optional_str(value: Option<String>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, ParameterValue::Str)
}

/// Query parameter reader collecting malformed (400) and out-of-range (422) errors separately.
struct Params<'a, F: Fn(&str) -> Option<String>> {
    get: &'a F,
    malformed: Errors,
    invalid: Errors,
}

impl<'a, F: Fn(&str) -> Option<String>> Params<'a, F> {
    fn new(get: &'a F) -> Self {
        Params {
            get,
            malformed: Errors::new(),
            invalid: Errors::new(),
        }
    }

    /// The trimmed value, empty included: `?depth=` or `?direction=` is not one of the schema's
    /// values, so it is rejected as the list routes reject `?limit=` and `?sort=`.
    fn raw(&self, name: &str) -> Option<String> {
        (self.get)(name).map(|v| v.trim().to_string())
    }

    /// The trimmed value, an empty one read as absent (the ids, which are required).
    fn value(&self, name: &str) -> Option<String> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    fn int(&mut self, name: &'static str, default: i32, min: i32, max: i32) -> i32 {
        let Some(raw) = self.raw(name) else {
            return default;
        };
        match raw.parse::<i64>() {
            Ok(n) if (i64::from(min)..=i64::from(max)).contains(&n) => n as i32,
            Ok(_) => {
                self.invalid
                    .push(name, format!("must be from {min} to {max}"));
                default
            }
            Err(_) => {
                self.malformed
                    .push(name, format!("must be an integer from {min} to {max}"));
                default
            }
        }
    }

    fn direction(&mut self, default: Direction) -> Direction {
        match self.raw("direction").as_deref().map(Direction::parse) {
            None => default,
            Some(Some(direction)) => direction,
            Some(None) => {
                self.invalid.push("direction", "must be out, in or both");
                default
            }
        }
    }

    fn kind(&mut self) -> Option<String> {
        let kind = (self.get)("type")?;
        validate::check_text(&mut self.invalid, "type", &kind, record::TYPE_MAX_CHARS);
        Some(kind)
    }

    fn uuid(&mut self, name: &'static str) -> Option<String> {
        match self.value(name) {
            None => {
                self.invalid.push(name, "is required");
                None
            }
            Some(raw) => match validate::uuid_str(&raw) {
                Some(id) => Some(id.to_string()),
                None => {
                    self.malformed.push(name, "must be a UUID");
                    None
                }
            },
        }
    }

    /// 400 for malformed parameters first, then 422 for out-of-range ones.
    fn finish(self) -> Result<()> {
        self.malformed.into_query_result()?;
        self.invalid.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn params(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const A: &str = "0192e4a0-0000-7000-8000-00000000000a";
    const E: &str = "0192e4a0-0000-7000-8000-00000000000e";

    #[test]
    fn neighbors_defaults_to_depth_1_both_directions_100_nodes() {
        let q = NeighborsQuery::parse(params(&[])).unwrap();
        assert_eq!(
            q,
            NeighborsQuery {
                depth: 1,
                direction: Direction::Both,
                kind: None,
                limit: 100
            }
        );
    }

    #[test]
    fn neighbors_depth_outside_1_to_3_is_422() {
        for bad in ["0", "4", "-1", "99999999999"] {
            let err = NeighborsQuery::parse(params(&[("depth", bad)])).unwrap_err();
            assert_eq!(err.status(), 422, "{bad}");
        }
        let q = NeighborsQuery::parse(params(&[
            ("depth", "3"),
            ("direction", "out"),
            ("limit", "1000"),
            ("type", "knows"),
        ]))
        .unwrap();
        assert_eq!(
            (q.depth, q.direction, q.limit, q.kind.as_deref()),
            (3, Direction::Out, 1000, Some("knows"))
        );
    }

    #[test]
    fn neighbors_bad_direction_limit_or_type_is_422_and_garbage_is_400() {
        for (name, value, status) in [
            ("direction", "up", 422),
            ("limit", "0", 422),
            ("limit", "1001", 422),
            ("type", "", 422),
            ("direction", "", 422),
            ("direction", " ", 422),
            ("depth", "two", 400),
            ("depth", "", 400),
            ("limit", "", 400),
        ] {
            let err = NeighborsQuery::parse(params(&[(name, value)])).unwrap_err();
            assert_eq!(err.status(), status, "{name}={value}");
        }
    }

    #[test]
    fn path_max_depth_7_is_422_and_6_is_accepted() {
        let err =
            PathQuery::parse(params(&[("from", A), ("to", E), ("max_depth", "7")])).unwrap_err();
        match err {
            ApiError::Validation(errors) => assert_eq!(errors[0].field, "max_depth"),
            other => panic!("{other:?}"),
        }
        let err = PathQuery::parse(params(&[("from", A), ("to", E), ("max_depth", "0")]));
        assert_eq!(err.unwrap_err().status(), 422);
        let err = PathQuery::parse(params(&[("from", A), ("to", E), ("max_depth", "")]));
        assert_eq!(err.unwrap_err().status(), 400);
        let err = PathQuery::parse(params(&[("from", A), ("to", E), ("direction", "")]));
        assert_eq!(err.unwrap_err().status(), 422);
        let q = PathQuery::parse(params(&[("from", A), ("to", E), ("max_depth", "6")])).unwrap();
        assert_eq!((q.max_depth, q.direction), (6, Direction::Out));
    }

    #[test]
    fn path_needs_from_and_to_as_uuids() {
        let status = |pairs| PathQuery::parse(params(pairs)).unwrap_err().status();
        assert_eq!(status(&[("to", E)]), 422);
        assert_eq!(status(&[("from", "x"), ("to", E)]), 400);
        let q = PathQuery::parse(params(&[("from", A), ("to", E)])).unwrap();
        assert_eq!((q.from.as_str(), q.to.as_str(), q.max_depth), (A, E, 6));
    }

    #[test]
    fn nodes_are_ids_and_types_unless_the_caller_may_read_entities() {
        use spingraph_authn_client::{Credential, Role, Scope};
        let nodes = json!([{"id": A, "type": "person", "name": "Ada", "metadata": {"k": 1},
            "owner_id": E, "external_id": "crm-1", "depth": 0}]);
        let key = |scopes: &[Scope]| Principal::for_tests(Role::User, Credential::ApiKey, scopes);
        assert_eq!(
            visible_nodes(&key(&[Scope::RelationshipsRead]), &nodes),
            json!([{"id": A, "type": "person", "depth": 0}])
        );
        let both = key(&[Scope::RelationshipsRead, Scope::EntitiesRead]);
        assert_eq!(visible_nodes(&both, &nodes), nodes);
    }

    #[test]
    fn every_walk_statement_is_one_select_returning_jsonb() {
        for statement in [sql::NEIGHBORS, sql::PATH] {
            assert!(statement.starts_with("WITH RECURSIVE bfs"));
            assert!(statement.ends_with(") AS j"));
            // each level only expands nodes not seen before, and is capped
            assert!(statement.contains("NOT EXISTS (SELECT 1 FROM unnest(b.visited)"));
            assert!(statement.contains("LIMIT $5::int"));
            // and the whole walk reads at most its relationship budget (plus one)
            assert!(statement.contains("LIMIT $7::bigint - b.scanned + 1"));
            assert!(statement.contains("b.scanned <= $7::bigint"));
            assert!(statement.contains("b.depth < $4::int"));
        }
    }
}
