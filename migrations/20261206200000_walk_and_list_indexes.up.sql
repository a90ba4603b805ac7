-- Indexes that keep graph walks and relationship lists reading about what they answer
-- (issue 26; tests/tests/query_cost.rs guards it on 100 000 relationships).
--
-- * `(source_id, type, ...)`, `(target_id, type, ...)`: a typed walk (`type=`) probes each
--   frontier node's relationships of that type, and a list with `source_id=`/`target_id=` and
--   `type=` pages them by creation time. `(source_id, created_at, id)` read every live
--   relationship of the node and filtered the type: a node with 100 000 relationships of which
--   3 are `cites` read 100 000 to answer 3. Their `type` is in collation "C" (equality is the
--   same as the column's): a walk compares `r.type COLLATE "C" = $3`, which only these serve,
--   so the planner cannot pick an index leading with `type` for a walk, as it did when the
--   statistics predated the type (it then read every relationship of that type, per level).
-- * `changes (kind, txid, seq)`: `GET /v1/changes?types=entity` read the feed in order and
--   filtered the kind, or (planned from statistics taken while the feed was small) sorted the
--   whole feed to answer a page.
-- * `(confidence, id)`, `(type, id)`: `GET /v1/relationships?sort=confidence|type` pages in
--   `(key, id)` order; without an index in that order, every page sorted every live
--   relationship.
--
-- Plain CREATE INDEX (in the migration's transaction) blocks writes to `relationships` while it
-- builds: seconds per million rows. On a large live table, create them first with
-- `CREATE INDEX CONCURRENTLY IF NOT EXISTS` (same names and definitions); this migration then
-- finds them and does nothing.

CREATE INDEX IF NOT EXISTS relationships_source_type_idx
    ON relationships (source_id, type COLLATE "C", created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS relationships_target_type_idx
    ON relationships (target_id, type COLLATE "C", created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS relationships_confidence_idx
    ON relationships (confidence, id) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS relationships_type_id_idx
    ON relationships (type, id) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS changes_kind_txid_seq_idx
    ON changes (kind, txid, seq);
