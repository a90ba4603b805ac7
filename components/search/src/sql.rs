//! Every statement this component runs, named. Each returns exactly one row whose first column
//! is `jsonb` built by Postgres (the released-Spin rules, SPEC §2); no statement returns a
//! `vector` column (vectors go in as `$n::text::vector`). The nearest-neighbour statement is the
//! one made at run time ([`nearest`]): a space's HNSW index is partial on the space's id over
//! `embedding::vector(<dimensions>)`, so the statement names both as literals (numbers read from
//! `embedding_spaces`, never client text) or the planner could not match the index.
//!
//! `{filter}` slots take the search's conditions on the entity `e` (`store::Filter`), their
//! values bound after the statement's own.

use spingraph_guest::{entity_json_sql, sql_timestamps};

/// A space row aliased `s` as the API's JSON, with its internal `id` (dropped before it is
/// answered); with `counted`, how many vectors it holds too (a count of the space's vectors:
/// what the space routes answer, not what a search needs).
macro_rules! space_json {
    () => {
        concat!(
            "jsonb_build_object('id', s.id, 'name', s.name, 'dimensions', s.dimensions, ",
            "'distance', s.distance, 'model', s.model, ",
            sql_timestamps!("created_at" => "s.created_at"),
            ")"
        )
    };
    (counted) => {
        concat!(
            space_json!(),
            " || jsonb_build_object('vectors', ",
            "(SELECT count(*) FROM embeddings m WHERE m.space_id = s.id))"
        )
    };
}

/// Every space, by name.
pub const LIST_SPACES: &str = concat!(
    "SELECT coalesce(jsonb_agg(",
    space_json!(counted),
    " ORDER BY s.name), '[]'::jsonb) AS j FROM embedding_spaces s"
);

/// The space named $1 with its count of vectors; NULL when there is none.
pub const GET_SPACE: &str = concat!(
    "SELECT (SELECT ",
    space_json!(counted),
    " FROM embedding_spaces s WHERE s.name = $1::text) AS j"
);

/// The space named $1 as defined, without counting its vectors (a search's: its cost must not
/// follow the space's size); NULL when there is none.
pub const SPACE_DEFINITION: &str = concat!(
    "SELECT (SELECT ",
    space_json!(),
    " FROM embedding_spaces s WHERE s.name = $1::text) AS j"
);

/// Register space $1 ($2 dimensions, $3 distance, $4 model, $5 the admin) and build its index,
/// as the owner (`embedding_space_create`). Run with `execute`: a taken name is a
/// unique_violation whose SQLSTATE reaches the guest on every Spin (an error raised while a
/// `query` streams its rows carries none on Spin 3.6.3).
pub const CREATE_SPACE: &str =
    "SELECT 1 FROM embedding_space_create($1::text, $2::int4, $3::text, $4::text, $5::uuid)";

/// The space named $1 as created in this transaction, its `embedding_space.create` audit row
/// written in the same statement (audit source `a`: one row, no resource id, the space is named
/// in the details).
pub const CREATED_SPACE: &str = concat!(
    "WITH a AS (SELECT NULL::uuid AS id FROM embedding_spaces WHERE name = $1::text), ",
    "log AS ({audit}) ",
    "SELECT (SELECT ",
    space_json!(counted),
    " FROM embedding_spaces s WHERE s.name = $1::text) AS j"
);

/// Drop space $1, its vectors and its index (`embedding_space_drop`, as the owner), with its
/// `embedding_space.delete` audit row (source `a`). `true` when there was one.
pub const DROP_SPACE: &str = "WITH s AS (SELECT * FROM embedding_space_drop($1::text)), \
     a AS (SELECT NULL::uuid AS id FROM s), log AS ({audit}) \
     SELECT to_jsonb(EXISTS (SELECT 1 FROM s)) AS j";

/// The nearest vectors of space `space_id` (of `dimensions`, compared by `operator`) to $1 (text,
/// `[0.1,...]`) among the entities `{filter}` keeps, at most $2 (int8): `[{id, distance}]`,
/// nearest first. The candidates come from the space's index in a MATERIALIZED CTE (so the
/// `LIMIT` is the index scan's own), then are sorted again (`distance + 0`: an expression the
/// index cannot answer, so the sort really happens) as the iterative scan's `relaxed_order`
/// may return them slightly out of order.
pub fn nearest(space_id: i32, dimensions: i32, operator: &str) -> String {
    let column = format!("m.embedding::vector({dimensions})");
    let query = format!("$1::text::vector({dimensions})");
    format!(
        "WITH c AS MATERIALIZED (SELECT m.entity_id AS id, {column} {operator} {query} AS distance \
         FROM embeddings m JOIN entities e ON e.id = m.entity_id \
         WHERE m.space_id = {space_id} AND {{filter}} \
         ORDER BY {column} {operator} {query} LIMIT $2::int8) \
         SELECT coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'distance', c.distance) \
         ORDER BY c.distance + 0, c.id), '[]'::jsonb) AS j FROM c"
    )
}

/// The entities `{filter}` keeps that match text $1, at most $2 in all: first those whose text
/// document matches `websearch_to_tsquery('english', $1)` by `ts_rank_cd`, then, to fill what
/// is left of $2, those whose name is trigram-similar to $1 (`%`, pg_trgm's threshold: a typo
/// still matches) by `similarity`. `[{id, rank, via}]` in that order (`via`: `text` or `name`).
/// When the full text fills the list the trigram scan does not run (`LIMIT 0` reads nothing):
/// on common words it is the costly half, rechecking every name that shares a trigram.
pub const MATCHING: &str = "WITH q AS (SELECT websearch_to_tsquery('english', $1::text) AS tsq), \
     ft AS (SELECT d.entity_id AS id, ts_rank_cd(d.document, q.tsq)::float8 AS rank \
     FROM q, entity_documents d JOIN entities e ON e.id = d.entity_id \
     WHERE d.document @@ q.tsq AND {filter} ORDER BY 2 DESC, 1 LIMIT $2::int8), \
     tg AS (SELECT e.id, similarity(e.name, $1::text)::float8 AS rank FROM entities e \
     WHERE e.name % $1::text AND {filter} AND e.id NOT IN (SELECT id FROM ft) \
     ORDER BY 2 DESC, 1 LIMIT $2::int8 - (SELECT count(*) FROM ft)) \
     SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'rank', x.rank, 'via', x.via) \
     ORDER BY x.ord, x.rank DESC, x.id), '[]'::jsonb) AS j FROM (\
     SELECT id, rank, 0 AS ord, 'text' AS via FROM ft \
     UNION ALL SELECT id, rank, 1, 'name' FROM tg) x";

/// The entities of the jsonb array of ids $1, as `{id: document}`.
pub const ENTITIES: &str = concat!(
    "SELECT coalesce(jsonb_object_agg(e.id, ",
    entity_json_sql!(),
    "), '{}'::jsonb) AS j FROM entities e ",
    "WHERE e.id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)"
);

/// The subgraph around the hits (the jsonb array of ids $1), walked as `GET
/// /v1/graph/neighbors` walks: the same statement, started from all of them at once.
pub const EXPAND: &str = spingraph_guest::walk_neighbors_sql!(many);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_returns_one_jsonb_row() {
        let nearest = nearest(3, 384, "<=>");
        for statement in [
            LIST_SPACES,
            GET_SPACE,
            SPACE_DEFINITION,
            CREATED_SPACE,
            DROP_SPACE,
            MATCHING,
            ENTITIES,
            EXPAND,
            &nearest,
        ] {
            assert!(statement.ends_with(" AS j") || statement.contains(" AS j FROM "));
            assert!(!statement.contains("GROUP BY"), "{statement}");
        }
    }

    #[test]
    fn the_nearest_statement_names_the_space_and_its_dimensions_as_the_index_does() {
        let s = nearest(3, 384, "<=>");
        assert!(s.contains("WHERE m.space_id = 3 AND {filter}"), "{s}");
        assert!(
            s.contains(
                "ORDER BY m.embedding::vector(384) <=> $1::text::vector(384) LIMIT $2::int8"
            ),
            "{s}"
        );
        assert!(s.contains("AS MATERIALIZED"), "{s}");
        assert!(s.contains("ORDER BY c.distance + 0, c.id"), "{s}");
        // no column of type vector leaves Postgres
        assert!(!s.contains("'embedding'"), "{s}");
    }

    #[test]
    fn only_the_space_routes_count_a_spaces_vectors() {
        for statement in [LIST_SPACES, GET_SPACE, CREATED_SPACE] {
            assert!(statement.contains("count(*)"), "{statement}");
        }
        // what a search reads first: its cost must not follow the space's size
        assert!(!SPACE_DEFINITION.contains("count("), "{SPACE_DEFINITION}");
    }

    #[test]
    fn the_admin_writes_are_audited_in_their_statement() {
        for statement in [CREATED_SPACE, DROP_SPACE] {
            assert_eq!(statement.matches("log AS ({audit})").count(), 1);
        }
    }
}
