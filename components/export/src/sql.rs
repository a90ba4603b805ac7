//! The export's statements. Each page is read by keyset (`id > $1`, in id order, `$3` rows) so
//! its cost is its size, never the table's, and answers one row: `j` (jsonb: how many rows and
//! the last id) and `body` (text: the page's items, rendered by the format's `{item}` SQL and
//! joined by `{separator}`). `$2` (jsonb array, or NULL for all) keeps the entity types asked
//! for; a relationship is exported when both its ends are.

/// Opens the snapshot every page of one export reads: the graph as of one instant, however
/// long the client takes to read it.
pub const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// The snapshot's instant (RFC 3339 text): the header's `exported_at`.
pub const SNAPSHOT_AT: &str = concat!(
    "SELECT to_jsonb(",
    spingraph_guest::sql_timestamp!("transaction_timestamp()"),
    ") AS j"
);

/// The lowest id, for the first page's `$1` (ids are v7 or v4 UUIDs, never all zeros).
pub const BEFORE_FIRST: &str = "00000000-0000-0000-0000-000000000000";

/// Entity types kept by `$2`; `{col}` is the type column.
macro_rules! kept {
    ($col:literal) => {
        concat!(
            "($2::jsonb IS NULL OR ",
            $col,
            " IN (SELECT jsonb_array_elements_text($2::jsonb)))"
        )
    };
}

/// The page's row count and last id, and its items (`{item}` over rows aliased as the item
/// expects, `{separator}` a bound text parameter).
macro_rules! page_answer {
    ($alias:literal) => {
        concat!(
            "SELECT jsonb_build_object('rows', count(*), 'last', (array_agg(",
            $alias,
            ".id ORDER BY ",
            $alias,
            ".id DESC))[1]) AS j, coalesce(string_agg({item}, $4::text ORDER BY ",
            $alias,
            ".id), '') AS body FROM page ",
            $alias
        )
    };
}

/// A page of live entities after id $1.
pub const ENTITY_PAGE: &str = concat!(
    "WITH page AS (SELECT * FROM entities e WHERE e.deleted_at IS NULL AND e.id > $1::uuid AND ",
    kept!("e.type"),
    " ORDER BY e.id LIMIT $3::int8) ",
    page_answer!("e")
);

/// The end `$end` (`source_id` / `target_id`) of relationship `r`, looked up by id: a LATERAL
/// that OFFSET 0 keeps a probe per row (never flattened into a join), so a page reads its
/// relationships in id order and stops at its size, also in an as-of export, where a join read
/// every entity's history and sorted every relationship for each page (4.6 s a page on 100,000
/// entities and 500,000 relationships; 70 ms so).
macro_rules! end {
    ($end:literal, $alias:literal) => {
        concat!(
            "CROSS JOIN LATERAL (SELECT x.type, x.external_id, x.owner_id, x.deleted_at ",
            "FROM entities x WHERE x.id = r.",
            $end,
            " OFFSET 0) ",
            $alias,
            " "
        )
    };
}

/// A page of live relationships between live (kept) entities after id $1, each row with its
/// ends' type, natural key and owner (`s_*`, `t_*`).
pub const RELATIONSHIP_PAGE: &str = concat!(
    "WITH page AS (SELECT r.*, s.type AS s_type, s.external_id AS s_external_id, ",
    "s.owner_id AS s_owner_id, t.type AS t_type, t.external_id AS t_external_id, ",
    "t.owner_id AS t_owner_id FROM relationships r ",
    end!("source_id", "s"),
    end!("target_id", "t"),
    "WHERE r.deleted_at IS NULL AND s.deleted_at IS NULL AND t.deleted_at IS NULL ",
    "AND r.id > $1::uuid AND ",
    kept!("s.type"),
    " AND ",
    kept!("t.type"),
    " ORDER BY r.id LIMIT $3::int8) ",
    page_answer!("r")
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_read_by_keyset_in_id_order_and_bounded() {
        for (page, alias) in [(ENTITY_PAGE, "e"), (RELATIONSHIP_PAGE, "r")] {
            assert!(page.contains(&format!("{alias}.id > $1::uuid")), "{page}");
            assert!(page.contains(&format!("ORDER BY {alias}.id LIMIT $3::int8")));
            assert!(page.contains(" AS j, ") && page.contains("{item}"));
            // keyset paging, never OFFSET (`OFFSET 0` only keeps a LATERAL a probe)
            assert!(
                !page.replace(" OFFSET 0)", ")").contains("OFFSET"),
                "{page}"
            );
        }
    }

    #[test]
    fn the_first_page_starts_below_every_id() {
        assert_eq!(BEFORE_FIRST.len(), 36);
        assert!(BEFORE_FIRST.chars().all(|c| c == '0' || c == '-'));
    }
}
