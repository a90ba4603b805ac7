//! Every statement of the entities table, named. Each returns one row whose first column is
//! jsonb built by Postgres (released-Spin rules, SPEC §2: no zero-row results, timestamps as
//! RFC 3339 text); parameters carry explicit casts. A mutation's `{audit}` slot takes
//! `spingraph_guest::audit::Audit`'s rows and its `{change}` slot `spingraph_guest::changes`'s,
//! filled with `spingraph_guest::sql::fill` and bound after the statement's own parameters.

use spingraph_guest::{entity_json_sql as entity_json, relationship_json_sql};

/// An entity row `e` as the API's JSON; `deleted_at`/`deleted_by` only on deleted ones.
pub const ENTITY_JSON: &str = entity_json!();
/// A relationship row `r` as the API's JSON (the change feed's document of a moved edge).
pub const RELATIONSHIP_JSON: &str = relationship_json_sql!();

/// `SELECT (SELECT <entity> <from>) AS j`: one row holding the entity that `from` (a `FROM ...`
/// over `e`) finds, or NULL.
macro_rules! one_entity {
    ($from:literal) => {
        concat!("SELECT (SELECT ", entity_json!(), " ", $from, ") AS j")
    };
}

/// The partial unique index of natural keys, as an `ON CONFLICT` target: a natural key is
/// `(owner_id, type, external_id)`, each owner's keys a namespace of their own.
macro_rules! external_id_key {
    () => {
        "(owner_id, type, external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL"
    };
}

/// `{conflict}` of [`INSERT_BATCH`] when a live entity with the natural key makes the row go
/// unwritten (and, written out, [`INSERT`]'s).
pub const SKIP_EXISTING: &str = concat!("ON CONFLICT ", external_id_key!(), " DO NOTHING");

/// `{conflict}` of [`INSERT_BATCH`] writing over the live entity with the natural key (which,
/// the key being the owner's, is one of the writer's own).
pub const UPDATE_EXISTING: &str = concat!(
    "ON CONFLICT ",
    external_id_key!(),
    " DO UPDATE SET name = EXCLUDED.name, confidence = EXCLUDED.confidence, ",
    "metadata = EXCLUDED.metadata, version = entities.version + 1, updated_at = now()"
);

/// Insert entity $1 (type $2, name $3, confidence $4, metadata $5, owner $6, external_id $7 or
/// NULL) unless a live entity of that owner has its natural key ([`SKIP_EXISTING`]). The
/// entity; NULL when skipped. Audit source: `e`.
pub const INSERT: &str = concat!(
    "WITH e AS (INSERT INTO entities (id, type, name, confidence, metadata, owner_id, external_id, ",
    "version, created_at, updated_at) ",
    "VALUES ($1::uuid, $2::text, $3::text, $4::float8, $5::jsonb, $6::uuid, $7::text, 1, now(), now()) ",
    "ON CONFLICT ",
    external_id_key!(),
    " DO NOTHING RETURNING *), log AS ({audit}), feed AS ({change}) ",
    one_entity!("FROM e")
);

/// The live entity of owner $3 with type $1 and external_id $2; NULL when there is none.
pub const FIND_EXTERNAL: &str = one_entity!(
    "FROM entities e WHERE e.owner_id = $3::uuid AND e.type = $1::text \
     AND e.external_id = $2::text AND e.deleted_at IS NULL"
);

/// The live entities of owner $2 holding the natural keys $1 (a jsonb array of `{ord, type,
/// external_id}`): `[{ord, entity}]` in `ord` order.
pub const FIND_EXTERNALS: &str = concat!(
    "SELECT coalesce(jsonb_agg(jsonb_build_object('ord', k.ord, 'entity', ",
    entity_json!(),
    ") ORDER BY k.ord), '[]'::jsonb) AS j ",
    "FROM jsonb_to_recordset($1::jsonb) AS k(ord int, \"type\" text, external_id text) ",
    "JOIN entities e ON e.owner_id = $2::uuid AND e.type = k.\"type\" ",
    "AND e.external_id = k.external_id AND e.deleted_at IS NULL"
);

/// `{skipped}` of [`INSERT_BATCH`] under `on_conflict: skip`: the existing entity of each item
/// that wrote nothing.
pub const SKIPPED: &str = concat!(
    "UNION ALL SELECT x.ord, 'skipped', ",
    entity_json!(),
    " FROM existing x JOIN entities e ON e.id = x.id ",
    "WHERE NOT EXISTS (SELECT 1 FROM res WHERE res.ord = x.ord)"
);

/// Insert the items $1 (a jsonb array of `{id, audit_id, ord, type, name, confidence, metadata,
/// external_id}`) owned by $2, `{conflict}` empty, [`SKIP_EXISTING`] or [`UPDATE_EXISTING`],
/// `{skipped}` empty or [`SKIPPED`]. `[{ord, outcome, entity}]` in `ord` order. Audit and change
/// sources: `created` and `updated` (slots `{created_log}`, `{updated_log}`, `{created_feed}`,
/// `{updated_feed}`).
pub const INSERT_BATCH: &str = concat!(
    "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) ",
    "AS x(id uuid, audit_id uuid, ord int, \"type\" text, name text, confidence float8, metadata jsonb, ",
    "external_id text)), ",
    "existing AS (SELECT i.ord, x.id FROM input i JOIN entities x ON x.owner_id = $2::uuid ",
    "AND x.type = i.\"type\" ",
    "AND x.external_id = i.external_id AND x.deleted_at IS NULL), ",
    "w AS (INSERT INTO entities (id, type, name, confidence, metadata, owner_id, external_id, version, ",
    "created_at, updated_at) ",
    "SELECT id, \"type\", name, confidence, metadata, $2::uuid, external_id, 1, now(), now() ",
    "FROM input ORDER BY ord {conflict} RETURNING *), ",
    "res AS (SELECT i.ord, i.audit_id, w.id = i.id AS fresh, w.* FROM input i JOIN w ON w.id = i.id ",
    "OR (i.external_id IS NOT NULL AND w.external_id = i.external_id AND w.type = i.\"type\" ",
    "AND w.id <> i.id)), ",
    "created AS (SELECT * FROM res WHERE fresh), ",
    "updated AS (SELECT * FROM res WHERE NOT fresh), ",
    "log_c AS ({created_log}), log_u AS ({updated_log}), ",
    "feed_c AS ({created_feed}), feed_u AS ({updated_feed}) ",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('ord', o.ord, 'outcome', o.outcome, ",
    "'entity', o.entity) ORDER BY o.ord), '[]'::jsonb) AS j ",
    "FROM (SELECT e.ord, CASE WHEN e.fresh THEN 'created' ELSE 'updated' END AS outcome, ",
    entity_json!(),
    " AS entity FROM res e {skipped}) o(ord, outcome, entity)"
);

/// Entity $1, deleted or not; NULL when there is none.
pub const FIND: &str = one_entity!("FROM entities e WHERE e.id = $1::uuid");

/// One page of entities: `{where}` over `e` (parameters bound by the caller), `{column}` the
/// sort key's column, `{inner}` / `{outer}` the keyset order over `e` / `s`, `{limit}` the bound
/// row count.
pub const LIST: &str = concat!(
    "SELECT coalesce(jsonb_agg(s.j ORDER BY {outer}), '[]'::jsonb) AS j FROM ( ",
    "SELECT e.id, e.{column}, ",
    entity_json!(),
    " AS j FROM entities e {where} ORDER BY {inner} LIMIT {limit}) s"
);

/// Whether a live entity of `x`'s owner other than `x` holds natural key (`$kind`, `$xid`): what
/// the partial unique index would refuse, checked by the statement itself (no released Spin hands
/// the guest the SQLSTATE of a unique violation raised while a query runs).
macro_rules! natural_key_taken {
    ($kind:literal, $xid:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM entities d WHERE d.owner_id = x.owner_id AND d.type = ",
            $kind,
            " AND d.external_id = ",
            $xid,
            " AND d.deleted_at IS NULL AND d.id <> x.id)"
        )
    };
}

/// Patch live entity $1 at version $8: type $2, name $3, confidence $4, metadata $5 (each NULL:
/// unchanged), external_id $7 when $6, unless another live entity holds the natural key that
/// results. `{taken, entity}`: whether one did, and the entity (NULL when taken, changed or
/// deleted). Audit source: `e`.
pub const UPDATE: &str = concat!(
    "WITH cur AS (SELECT x.id, ",
    natural_key_taken!(
        "coalesce($2::text, x.type)",
        "CASE WHEN $6::bool THEN $7::text ELSE x.external_id END"
    ),
    " AS taken FROM entities x WHERE x.id = $1::uuid), ",
    "e AS (UPDATE entities x SET type = coalesce($2::text, x.type), name = coalesce($3::text, x.name), ",
    "confidence = coalesce($4::float8, x.confidence), metadata = coalesce($5::jsonb, x.metadata), ",
    "external_id = CASE WHEN $6::bool THEN $7::text ELSE x.external_id END, ",
    "version = x.version + 1, updated_at = now() ",
    "FROM cur WHERE x.id = cur.id AND NOT cur.taken AND x.version = $8::int8 AND x.deleted_at IS NULL ",
    "RETURNING x.*), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT jsonb_build_object('taken', coalesce((SELECT taken FROM cur), false), 'entity', (SELECT ",
    entity_json!(),
    " FROM e)) AS j"
);

/// Replace name $2, confidence $3 and metadata $4 of live entity $1 if it is at version $5 (NULL:
/// any). The entity; NULL when it was not. Audit source: `e`.
pub const REPLACE: &str = concat!(
    "WITH e AS (UPDATE entities SET name = $2::text, confidence = $3::float8, metadata = $4::jsonb, ",
    "version = version + 1, updated_at = now() ",
    "WHERE id = $1::uuid AND ($5::int8 IS NULL OR version = $5::int8) AND deleted_at IS NULL ",
    "RETURNING *), log AS ({audit}), feed AS ({change}) ",
    one_entity!("FROM e")
);

/// The entities $1 (a jsonb array of ids), deleted or not, locked for update in id order.
pub const LOCK: &str = concat!(
    "SELECT coalesce((SELECT jsonb_agg(",
    entity_json!(),
    ") FROM (SELECT * FROM entities ",
    "WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::uuid) ORDER BY id FOR UPDATE) e), ",
    "'[]'::jsonb) AS j"
);

/// Fold the entities $2 (a jsonb array of ids) into survivor $1 by actor $3; $4 (NULL: kept)
/// becomes the survivor's metadata. Unless $5 (the actor may change anyone's relationships: an
/// admin), nothing is written when a live relationship that would move or go was created by
/// someone else (`blocked`: how many). The merge is recorded as merge $6 (`merges`,
/// `merge_entities`, `merge_relationships`: what [`UNMERGE`] undoes). `{blocked, entity}`: that
/// count and the survivor (NULL when blocked). Audit sources: `e` (`{survivor_log}`), `merged`,
/// `kept`, `dropped` (`{merged_log}`, `{moved_log}`, `{dropped_log}`); change sources likewise
/// (`{survivor_feed}`, `{merged_feed}`, `{kept_feed}`, `{dropped_feed}`), and `repointed`
/// (`{repointed_feed}`: entities merged earlier into a merged one, which name the survivor now).
pub const MERGE: &str = concat!(
    "WITH v AS (SELECT (jsonb_array_elements_text($2::jsonb))::uuid AS id), ",
    "moving AS (SELECT r.id, r.type, r.created_at, r.created_by, r.source_id, r.target_id, r.version, ",
    "CASE WHEN r.source_id IN (SELECT id FROM v) THEN $1::uuid ELSE r.source_id END AS new_source, ",
    "CASE WHEN r.target_id IN (SELECT id FROM v) THEN $1::uuid ELSE r.target_id END AS new_target ",
    "FROM relationships r WHERE r.deleted_at IS NULL ",
    "AND (r.source_id IN (SELECT id FROM v) OR r.target_id IN (SELECT id FROM v))), ",
    "blocked AS (SELECT count(*) AS n FROM moving m ",
    "WHERE NOT $5::bool AND m.created_by IS DISTINCT FROM $3::uuid), ",
    "ranked AS (SELECT m.*, m.new_source <> m.new_target ",
    "AND row_number() OVER (PARTITION BY m.new_source, m.new_target, m.type ORDER BY m.created_at, m.id) = 1 ",
    "AND NOT EXISTS (SELECT 1 FROM relationships x WHERE x.deleted_at IS NULL ",
    "AND x.source_id = m.new_source AND x.target_id = m.new_target AND x.type = m.type ",
    "AND x.id NOT IN (SELECT id FROM moving)) AS keep ",
    "FROM moving m), ",
    "kept AS (UPDATE relationships r SET source_id = k.new_source, target_id = k.new_target, ",
    "version = r.version + 1, updated_at = now() ",
    "FROM ranked k, blocked b WHERE r.id = k.id AND k.keep AND b.n = 0 ",
    "RETURNING r.*, gen_random_uuid() AS audit_id), ",
    "dropped AS (UPDATE relationships r SET deleted_at = now(), deleted_by = $3::uuid, ",
    "version = r.version + 1, updated_at = now() ",
    "FROM ranked k, blocked b WHERE r.id = k.id AND NOT k.keep AND b.n = 0 ",
    "RETURNING r.*, gen_random_uuid() AS audit_id), ",
    "merged AS (UPDATE entities x SET deleted_at = now(), deleted_by = $3::uuid, merged_into = $1::uuid, ",
    "version = x.version + 1, updated_at = now() ",
    "FROM blocked b WHERE x.id IN (SELECT id FROM v) AND x.deleted_at IS NULL AND b.n = 0 ",
    "RETURNING x.*, gen_random_uuid() AS audit_id), ",
    "repointed AS (UPDATE entities x SET merged_into = $1::uuid, version = x.version + 1, ",
    "updated_at = now() FROM entities o, blocked b ",
    "WHERE o.id = x.id AND o.merged_into IN (SELECT id FROM v) AND b.n = 0 ",
    "RETURNING x.*, o.merged_into AS was), ",
    "e AS (UPDATE entities x SET metadata = coalesce($4::jsonb, x.metadata), version = x.version + 1, ",
    "updated_at = now() FROM blocked b WHERE x.id = $1::uuid AND x.deleted_at IS NULL AND b.n = 0 ",
    "RETURNING x.*), ",
    // The record (`o`: the survivor as the statement's snapshot has it, before `e`).
    "rec AS (INSERT INTO merges (id, survivor_id, actor_id, metadata_before, metadata_after) ",
    "SELECT $6::uuid, e.id, $3::uuid, CASE WHEN e.metadata <> o.metadata THEN o.metadata END, ",
    "CASE WHEN e.metadata <> o.metadata THEN e.metadata END FROM e JOIN entities o ON o.id = e.id ",
    "RETURNING id), ",
    "rec_e AS (INSERT INTO merge_entities (merge_id, entity_id, repointed_from) ",
    "SELECT rec.id, m.id, NULL::uuid FROM rec, merged m ",
    "UNION ALL SELECT rec.id, p.id, p.was FROM rec, repointed p), ",
    "rec_r AS (INSERT INTO merge_relationships (merge_id, relationship_id, dropped, source_before, ",
    "target_before, version_before, version_after) ",
    "SELECT rec.id, w.id, w.dropped, m.source_id, m.target_id, m.version, w.version FROM rec, ",
    "(SELECT id, version, false AS dropped FROM kept UNION ALL SELECT id, version, true FROM dropped) w ",
    "JOIN moving m ON m.id = w.id), ",
    // The survivor's vectors: in each space where it has none, the merged entity's (the first
    // in `from` order that has one), recorded as this merge's copy (`merged_from`).
    "copied AS (INSERT INTO embeddings (space_id, entity_id, embedding, updated_at, updated_by, merged_from) ",
    "SELECT DISTINCT ON (m.space_id) m.space_id, $1::uuid, m.embedding, now(), $3::uuid, $6::uuid ",
    "FROM embeddings m JOIN merged x ON x.id = m.entity_id ",
    "JOIN jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS f(id, ord) ON f.id::uuid = m.entity_id ",
    "WHERE NOT EXISTS (SELECT 1 FROM embeddings s WHERE s.space_id = m.space_id AND s.entity_id = $1::uuid) ",
    "ORDER BY m.space_id, f.ord ON CONFLICT (space_id, entity_id) DO NOTHING RETURNING space_id), ",
    "copied_e AS (SELECT e.*, s.name AS space_name, true AS present FROM e CROSS JOIN copied c ",
    "JOIN embedding_spaces s ON s.id = c.space_id), ",
    "log_s AS ({survivor_log}), log_m AS ({merged_log}), log_k AS ({moved_log}), ",
    "log_d AS ({dropped_log}), ",
    "feed_s AS ({survivor_feed}), feed_m AS ({merged_feed}), feed_k AS ({kept_feed}), ",
    "feed_d AS ({dropped_feed}), feed_p AS ({repointed_feed}), feed_v AS ({embedding_feed}) ",
    "SELECT jsonb_build_object('blocked', (SELECT n FROM blocked), 'entity', (SELECT ",
    entity_json!(),
    " FROM e)) AS j"
);

/// The merges into survivor $1 that an unmerge of the entities $2 (a jsonb array of ids) undoes:
/// for each entity, its latest merge into $1 not yet undone. `[{entity_id, merge_id, staying,
/// metadata_before, metadata_after}]`, newest merge first; `staying`: how many entities that merge
/// folded in stay merged after the unmerge.
pub const MERGE_RECORDS: &str = concat!(
    "WITH f AS (SELECT (jsonb_array_elements_text($2::jsonb))::uuid AS id), ",
    "t AS (SELECT DISTINCT ON (me.entity_id) me.entity_id, me.merge_id, m.at, m.metadata_before, ",
    "m.metadata_after FROM merge_entities me JOIN merges m ON m.id = me.merge_id ",
    "WHERE me.entity_id IN (SELECT id FROM f) AND me.repointed_from IS NULL AND me.undone_at IS NULL ",
    "AND m.survivor_id = $1::uuid ORDER BY me.entity_id, m.at DESC, m.id DESC) ",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('entity_id', t.entity_id, 'merge_id', t.merge_id, ",
    "'metadata_before', t.metadata_before, 'metadata_after', t.metadata_after, ",
    "'staying', (SELECT count(*) FROM merge_entities me WHERE me.merge_id = t.merge_id ",
    "AND me.repointed_from IS NULL AND me.undone_at IS NULL AND me.entity_id NOT IN (SELECT id FROM f))) ",
    "ORDER BY t.at DESC, t.merge_id DESC), '[]'::jsonb) AS j FROM t"
);

/// Undo, by actor $3, the merges into survivor $1 of the entities $2 (a jsonb array of
/// `{merge_id, entity_id}`, found by [`MERGE_RECORDS`], every entity locked): each entity is live
/// again, the ones its merge re-pointed at $1 are merged into it again, and the relationships the
/// merge moved or dropped go back to their ends before it, live — each once none of its ends that
/// merge folded in stays merged. $5 (NULL: kept) becomes the survivor's metadata.
///
/// Nothing is written when a relationship to put back changed since (`changed`: its id, the feed
/// `seq` of the first change after the merge, and whether it is `gone`), a live entity (or another
/// entity of $2) holds one's natural key (`taken`: `{id, by}`), or, unless $4 (an admin), one was
/// created by someone else (`blocked`: how many). A relationship put back exactly as an earlier
/// merge left it keeps that merge undoable (its record's `version_after` moves on).
/// `{changed, taken, blocked, planned, done, restored, survivor}`: `planned` / `done` relationships
/// to put back and put back, the entities restored, the survivor when its metadata changed.
/// Audit sources: `s` (the survivor: `{survivor_log}`), `back`, `moved_back`, `revived`,
/// `repointed` (`{restored_log}`, `{moved_log}`, `{revived_log}`, `{repointed_log}`); change
/// sources `e`, `back`, `moved_back`, `revived`, `repointed` (`{survivor_feed}`, `{restored_feed}`,
/// `{moved_feed}`, `{revived_feed}`, `{repointed_feed}`).
pub const UNMERGE: &str = concat!(
    "WITH t AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS t(merge_id uuid, entity_id uuid)), ",
    "staying AS (SELECT me.merge_id, me.entity_id FROM merge_entities me ",
    "WHERE me.merge_id IN (SELECT merge_id FROM t) AND me.repointed_from IS NULL AND me.undone_at IS NULL ",
    "AND NOT EXISTS (SELECT 1 FROM t WHERE t.merge_id = me.merge_id AND t.entity_id = me.entity_id)), ",
    "rb AS (SELECT mr.*, r.version AS version_now, r.created_by FROM merge_relationships mr ",
    "LEFT JOIN relationships r ON r.id = mr.relationship_id ",
    "WHERE EXISTS (SELECT 1 FROM t WHERE t.merge_id = mr.merge_id ",
    "AND t.entity_id IN (mr.source_before, mr.target_before)) ",
    "AND NOT EXISTS (SELECT 1 FROM staying s WHERE s.merge_id = mr.merge_id ",
    "AND s.entity_id IN (mr.source_before, mr.target_before))), ",
    "changed AS (SELECT rb.relationship_id AS id, rb.version_now IS NULL AS gone, ",
    "(SELECT min(c.seq) FROM changes c WHERE c.resource_id = rb.relationship_id ",
    "AND c.kind = 'relationship' AND c.version > rb.version_after) AS seq ",
    "FROM rb WHERE rb.version_now IS DISTINCT FROM rb.version_after), ",
    "taken AS (SELECT x.id, d.id AS by FROM t JOIN entities x ON x.id = t.entity_id ",
    "JOIN entities d ON d.owner_id = x.owner_id AND d.type = x.type AND d.external_id = x.external_id ",
    "AND d.deleted_at IS NULL ",
    "UNION ALL SELECT x.id, d.id FROM t JOIN entities x ON x.id = t.entity_id ",
    "JOIN t u ON u.entity_id < t.entity_id JOIN entities d ON d.id = u.entity_id ",
    "AND d.owner_id = x.owner_id AND d.type = x.type AND d.external_id = x.external_id), ",
    "blocked AS (SELECT count(*) AS n FROM rb ",
    "WHERE NOT $4::bool AND rb.version_now IS NOT NULL AND rb.created_by IS DISTINCT FROM $3::uuid), ",
    "ok AS (SELECT 1 AS go WHERE NOT EXISTS (SELECT 1 FROM changed) AND NOT EXISTS (SELECT 1 FROM taken) ",
    "AND (SELECT n FROM blocked) = 0), ",
    "back AS (UPDATE entities x SET deleted_at = NULL, deleted_by = NULL, merged_into = NULL, ",
    "version = x.version + 1, updated_at = now() FROM t, ok ",
    "WHERE x.id = t.entity_id AND x.merged_into = $1::uuid RETURNING x.*, gen_random_uuid() AS audit_id), ",
    "returned AS (UPDATE relationships r SET source_id = rb.source_before, target_id = rb.target_before, ",
    "deleted_at = NULL, deleted_by = NULL, version = r.version + 1, updated_at = now() FROM rb, ok ",
    "WHERE r.id = rb.relationship_id AND r.version = rb.version_after ",
    "RETURNING r.*, rb.dropped, rb.merge_id, rb.version_before AS before_merge, ",
    "gen_random_uuid() AS audit_id), ",
    "moved_back AS (SELECT * FROM returned WHERE NOT dropped), ",
    "revived AS (SELECT * FROM returned WHERE dropped), ",
    "rebased AS (UPDATE merge_relationships o SET version_after = w.version FROM returned w ",
    "WHERE o.relationship_id = w.id AND o.merge_id <> w.merge_id AND o.version_after = w.before_merge ",
    "RETURNING 1), ",
    "repointed AS (UPDATE entities x SET merged_into = me.repointed_from, version = x.version + 1, ",
    "updated_at = now() FROM merge_entities me, t, ok ",
    "WHERE me.merge_id = t.merge_id AND me.repointed_from = t.entity_id AND x.id = me.entity_id ",
    "AND x.merged_into = $1::uuid RETURNING x.*, gen_random_uuid() AS audit_id), ",
    "undone_e AS (UPDATE merge_entities me SET undone_at = now(), undone_by = $3::uuid FROM t, ok ",
    "WHERE me.merge_id = t.merge_id AND (me.entity_id = t.entity_id OR me.repointed_from = t.entity_id) ",
    "RETURNING 1), ",
    "undone_m AS (UPDATE merges m SET undone_at = now(), undone_by = $3::uuid FROM ok ",
    "WHERE m.id IN (SELECT merge_id FROM t) AND NOT EXISTS (SELECT 1 FROM staying s WHERE s.merge_id = m.id) ",
    "RETURNING 1), ",
    "s AS (SELECT x.id FROM entities x, ok WHERE x.id = $1::uuid), ",
    "e AS (UPDATE entities x SET metadata = $5::jsonb, version = x.version + 1, updated_at = now() ",
    "FROM ok WHERE x.id = $1::uuid AND $5::jsonb IS NOT NULL RETURNING x.*), ",
    // The survivor's vectors the merges undone copied to it: each, when its merge is undone in
    // full or it is the vector (in its space) of an entity taken out.
    "taken_back AS (DELETE FROM embeddings c USING ok WHERE c.entity_id = $1::uuid ",
    "AND c.merged_from IN (SELECT merge_id FROM t) ",
    "AND (NOT EXISTS (SELECT 1 FROM staying s WHERE s.merge_id = c.merged_from) ",
    "OR EXISTS (SELECT 1 FROM embeddings o JOIN t ON t.entity_id = o.entity_id AND t.merge_id = c.merged_from ",
    "WHERE o.space_id = c.space_id AND o.embedding = c.embedding)) RETURNING c.space_id), ",
    "survivor_now AS (SELECT * FROM e UNION ALL SELECT x.* FROM entities x, ok ",
    "WHERE x.id = $1::uuid AND NOT EXISTS (SELECT 1 FROM e)), ",
    "taken_back_e AS (SELECT n.*, s.name AS space_name, false AS present FROM survivor_now n ",
    "CROSS JOIN taken_back b JOIN embedding_spaces s ON s.id = b.space_id), ",
    "log_s AS ({survivor_log}), log_b AS ({restored_log}), log_m AS ({moved_log}), ",
    "log_r AS ({revived_log}), log_p AS ({repointed_log}), ",
    "feed_s AS ({survivor_feed}), feed_b AS ({restored_feed}), feed_m AS ({moved_feed}), ",
    "feed_r AS ({revived_feed}), feed_p AS ({repointed_feed}), feed_v AS ({embedding_feed}) ",
    "SELECT jsonb_build_object(",
    "'changed', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'seq', c.seq, 'gone', c.gone) ",
    "ORDER BY c.seq NULLS LAST, c.id), '[]'::jsonb) FROM changed c), ",
    "'taken', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', k.id, 'by', k.by) ORDER BY k.id), ",
    "'[]'::jsonb) FROM taken k), ",
    "'blocked', (SELECT n FROM blocked), ",
    "'planned', (SELECT count(*) FROM rb), 'done', (SELECT count(*) FROM returned), ",
    "'restored', (SELECT coalesce(jsonb_agg(",
    entity_json!(),
    "), '[]'::jsonb) FROM back e), ",
    "'survivor', (SELECT ",
    entity_json!(),
    " FROM e)) AS j"
);

/// Soft-delete live entity $1 by $2 if $2 owns it or $3 (an admin), at version $4 (NULL: any).
/// `{found, done, owner_id}`. Audit and change source: `e`.
pub const SOFT_DELETE: &str = concat!(
    "WITH cur AS (SELECT id, owner_id FROM entities WHERE id = $1::uuid AND deleted_at IS NULL), ",
    "e AS (UPDATE entities t SET deleted_at = now(), deleted_by = $2::uuid, version = t.version + 1, ",
    "updated_at = now() ",
    "WHERE t.id = $1::uuid AND t.deleted_at IS NULL AND (t.owner_id = $2::uuid OR $3::bool) ",
    "AND ($4::int8 IS NULL OR t.version = $4::int8) RETURNING t.id, t.type, t.version), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT jsonb_build_object('found', EXISTS (SELECT 1 FROM cur), 'done', EXISTS (SELECT 1 FROM e), ",
    "'owner_id', (SELECT owner_id FROM cur)) AS j"
);

/// Delete entity $1 for good if at version $2 (NULL: any); its relationships go with it.
/// `{found, done, owner_id}`. Audit source: `e`; change sources: `gone` (`{change}`) and the
/// live relationships it takes along, `gone_edges` (`{edges}`).
pub const HARD_DELETE: &str = concat!(
    "WITH e AS (DELETE FROM entities t WHERE t.id = $1::uuid AND ($2::int8 IS NULL OR t.version = $2::int8) ",
    "RETURNING t.id, t.owner_id, t.type, t.version), ",
    "gone AS (SELECT id, type, version + 1 AS version FROM e), ",
    "gone_edges AS (SELECT r.id, r.type, r.version + 1 AS version FROM relationships r ",
    "WHERE (r.source_id = $1::uuid OR r.target_id = $1::uuid) AND r.deleted_at IS NULL ",
    "AND EXISTS (SELECT 1 FROM e)), ",
    "log AS ({audit}), feed AS ({change}), feed_edges AS ({edges}) ",
    "SELECT jsonb_build_object('found', EXISTS (SELECT 1 FROM entities WHERE id = $1::uuid), ",
    "'done', EXISTS (SELECT 1 FROM e), ",
    "'owner_id', (SELECT owner_id FROM entities WHERE id = $1::uuid)) AS j"
);

/// Undelete entity $1 unless it was merged or a live entity holds its natural key now.
/// `{found, merged_into, taken, entity}`. Audit and change source: `e`.
pub const RESTORE: &str = concat!(
    "WITH cur AS (SELECT x.id, ",
    natural_key_taken!("x.type", "x.external_id"),
    " AS taken FROM entities x WHERE x.id = $1::uuid), ",
    "e AS (UPDATE entities x SET deleted_at = NULL, deleted_by = NULL, version = x.version + 1, ",
    "updated_at = now() ",
    "FROM cur WHERE x.id = cur.id AND NOT cur.taken AND x.deleted_at IS NOT NULL ",
    "AND x.merged_into IS NULL RETURNING x.*), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT jsonb_build_object('found', EXISTS (SELECT 1 FROM entities WHERE id = $1::uuid), ",
    "'merged_into', (SELECT merged_into FROM entities WHERE id = $1::uuid), ",
    "'taken', coalesce((SELECT taken FROM cur), false), ",
    "'entity', (SELECT ",
    entity_json!(),
    " FROM e)) AS j"
);

// ------------------------------------------------------------------ vectors (issue 28)
//
// Vectors cross the pg4 boundary as text: bound as `$n::text::vector`, read as
// `embedding::text` (inside a jsonb answer). No statement returns a column of type `vector`
// (released Spin has no such type; `--spin-compat` hands it over as unsupported bytes).

/// An embedding row `x` of space `s` as the API's JSON; `vector` is pgvector's text
/// (`[0.1,0.2]`), which the component reads back as numbers.
macro_rules! vector_json {
    () => {
        concat!(
            "jsonb_build_object('entity_id', x.entity_id, 'space', s.name, ",
            "'dimensions', s.dimensions, 'vector', x.embedding::text, ",
            spingraph_guest::sql_timestamps!("updated_at" => "x.updated_at"),
            ")"
        )
    };
}

/// The change-feed document of a vector write: the entity row `e` as the API's JSON plus
/// `"embedding": {"space", "present"}` (the source's `space_name` and `present` columns).
pub const EMBEDDING_DOCUMENT: &str = concat!(
    "(",
    entity_json!(),
    " || jsonb_build_object('embedding', jsonb_build_object('space', e.space_name, ",
    "'present', e.present)))"
);

/// The space named $1: `{id, name, dimensions, distance}`; NULL when there is none.
pub const SPACE: &str = "SELECT (SELECT jsonb_build_object('id', s.id, 'name', s.name, \
    'dimensions', s.dimensions, 'distance', s.distance) FROM embedding_spaces s \
    WHERE s.name = $1::text) AS j";

/// Entity $1's vector in space $2 (an id); NULL when it has none.
pub const VECTOR: &str = concat!(
    "SELECT (SELECT ",
    vector_json!(),
    " FROM embeddings x JOIN embedding_spaces s ON s.id = x.space_id ",
    "WHERE x.entity_id = $1::uuid AND x.space_id = $2::int) AS j"
);

/// Every vector of entity $1, by space name.
pub const VECTORS: &str = concat!(
    "SELECT coalesce((SELECT jsonb_agg(",
    vector_json!(),
    " ORDER BY s.name) FROM embeddings x JOIN embedding_spaces s ON s.id = x.space_id ",
    "WHERE x.entity_id = $1::uuid), '[]'::jsonb) AS j"
);

/// Write vector $3 (pgvector text) of live entity $1 in space $2 (an id, named $5) by actor $4;
/// an explicit write is no merge's copy (`merged_from` cleared). `{created, item}`; NULL when
/// the entity is not live. Audit and change source: `touched` (`{audit}`, `{change}`).
pub const PUT_VECTOR: &str = concat!(
    "WITH e AS (SELECT t.* FROM entities t WHERE t.id = $1::uuid AND t.deleted_at IS NULL), ",
    "w AS (INSERT INTO embeddings AS x (space_id, entity_id, embedding, updated_at, updated_by, merged_from) ",
    "SELECT $2::int, e.id, $3::text::vector, now(), $4::uuid, NULL FROM e ",
    "ON CONFLICT (space_id, entity_id) DO UPDATE SET embedding = EXCLUDED.embedding, ",
    "updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by, merged_from = NULL ",
    "RETURNING x.*, (x.xmax = 0) AS created), ",
    "touched AS (SELECT e.*, $5::text AS space_name, true AS present FROM e JOIN w ON w.entity_id = e.id), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT (SELECT jsonb_build_object('created', x.created, 'item', ",
    vector_json!(),
    ") FROM w x JOIN embedding_spaces s ON s.id = x.space_id) AS j"
);

/// Write the vectors $1 (a jsonb array of `{ord, entity_id, vector}`, `vector` pgvector text)
/// in space $2 (an id, named $4) by actor $3, for the items whose entity is live. `[{entity_id,
/// created}]` in `ord` order. Audit and change source: `touched` (`{audit}`, one audit row per
/// item with the id the statement gave it; `{change}`).
pub const PUT_VECTORS: &str = concat!(
    "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(ord int, entity_id uuid, vector text)), ",
    "e AS (SELECT t.*, i.ord, i.vector AS new_vector FROM entities t JOIN input i ON i.entity_id = t.id ",
    "WHERE t.deleted_at IS NULL), ",
    "w AS (INSERT INTO embeddings AS x (space_id, entity_id, embedding, updated_at, updated_by, merged_from) ",
    "SELECT $2::int, e.id, e.new_vector::text::vector, now(), $3::uuid, NULL FROM e ORDER BY e.id ",
    "ON CONFLICT (space_id, entity_id) DO UPDATE SET embedding = EXCLUDED.embedding, ",
    "updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by, merged_from = NULL ",
    "RETURNING x.entity_id, (x.xmax = 0) AS created), ",
    "touched AS (SELECT e.*, $4::text AS space_name, true AS present, gen_random_uuid() AS audit_id ",
    "FROM e JOIN w ON w.entity_id = e.id), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT coalesce((SELECT jsonb_agg(jsonb_build_object('entity_id', w.entity_id, 'created', w.created) ",
    "ORDER BY e.ord) FROM w JOIN e ON e.id = w.entity_id), '[]'::jsonb) AS j"
);

/// Delete live entity $1's vector in space $2 (an id, named $3). `{deleted}`. Audit and change
/// source: `touched` (`{audit}`, `{change}`).
pub const DELETE_VECTOR: &str = concat!(
    "WITH e AS (SELECT t.* FROM entities t WHERE t.id = $1::uuid AND t.deleted_at IS NULL), ",
    "w AS (DELETE FROM embeddings x USING e WHERE x.space_id = $2::int AND x.entity_id = e.id ",
    "RETURNING x.entity_id), ",
    "touched AS (SELECT e.*, $3::text AS space_name, false AS present FROM e JOIN w ON w.entity_id = e.id), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT jsonb_build_object('deleted', EXISTS (SELECT 1 FROM w)) AS j"
);

/// `{vector_list}` of [`DUPLICATES`] when there is no space to compare in: no candidates.
pub const NO_VECTOR_LIST: &str = "SELECT NULL::uuid AS id, NULL::float8 AS distance WHERE false";

/// `{vector_list}` of [`DUPLICATES`]: the nearest live entities of type $2 and owner $3 to
/// entity $1's vector in space `{space}` (an id) of `{dims}` dimensions, by the space's distance
/// operator `{op}`, at most $5; none when $1 has no vector there. The space id and dimensions are
/// literals (filled from the space row, never from a client), so the space's partial HNSW index
/// over `embedding::vector({dims}) WHERE space_id = {space}` serves the `ORDER BY`.
pub const VECTOR_LIST: &str = concat!(
    "SELECT c.entity_id AS id, (c.embedding::vector({dims}) {op} (SELECT q.embedding::vector({dims}) ",
    "FROM embeddings q WHERE q.space_id = {space} AND q.entity_id = $1::uuid))::float8 AS distance ",
    "FROM embeddings c JOIN entities x ON x.id = c.entity_id ",
    "WHERE c.space_id = {space} AND c.entity_id <> $1::uuid AND x.deleted_at IS NULL ",
    "AND x.type = $2::text AND x.owner_id = $3::uuid ",
    "AND EXISTS (SELECT 1 FROM embeddings q WHERE q.space_id = {space} AND q.entity_id = $1::uuid) ",
    "ORDER BY c.embedding::vector({dims}) {op} (SELECT q.embedding::vector({dims}) ",
    "FROM embeddings q WHERE q.space_id = {space} AND q.entity_id = $1::uuid) LIMIT $5::int"
);

/// The duplicates of entity $1 (type $2, owner $3, name $4): the live entities of its type and
/// owner but itself, ranked by reciprocal-rank fusion (k = 60) of `{vector_list}` (nearest
/// first; [`VECTOR_LIST`] or [`NO_VECTOR_LIST`]) and the names most similar to $4 (trigram
/// similarity over `pg_trgm`'s `%`, which the GIN index `entities_name_trgm_idx` serves), each
/// list at most $5 long; the first $6. `[{entity, score, vector_distance, name_similarity}]`,
/// best first, ties by id.
pub const DUPLICATES: &str = concat!(
    "WITH vec AS MATERIALIZED ({vector_list}), ",
    "vr AS (SELECT v.id, v.distance, row_number() OVER (ORDER BY v.distance, v.id) AS rank FROM vec v), ",
    "txt AS MATERIALIZED (SELECT x.id, similarity(x.name, $4::text) AS sim FROM entities x ",
    "WHERE x.name % $4::text AND x.deleted_at IS NULL AND x.type = $2::text AND x.owner_id = $3::uuid ",
    "AND x.id <> $1::uuid ORDER BY sim DESC, x.id LIMIT $5::int), ",
    "tr AS (SELECT t.id, row_number() OVER (ORDER BY t.sim DESC, t.id) AS rank FROM txt t), ",
    "fused AS (SELECT coalesce(vr.id, tr.id) AS id, vr.distance, ",
    "coalesce(1.0::float8 / (60 + vr.rank), 0) + coalesce(1.0::float8 / (60 + tr.rank), 0) AS score ",
    "FROM vr FULL JOIN tr ON tr.id = vr.id ORDER BY score DESC, id LIMIT $6::int) ",
    "SELECT coalesce((SELECT jsonb_agg(jsonb_build_object('entity', ",
    entity_json!(),
    ", 'score', f.score, 'vector_distance', f.distance, ",
    "'name_similarity', similarity(e.name, $4::text)::float8) ORDER BY f.score DESC, f.id) ",
    "FROM fused f JOIN entities e ON e.id = f.id), '[]'::jsonb) AS j"
);

/// The distance operator of a space's `distance` (`cosine`, `l2`, `inner_product`: pgvector's
/// `<=>`, `<->`, `<#>`, the operators of the `vector_*_ops` classes its HNSW index is built with).
pub fn distance_operator(distance: &str) -> Option<&'static str> {
    match distance {
        "cosine" => Some("<=>"),
        "l2" => Some("<->"),
        "inner_product" => Some("<#>"),
        _ => None,
    }
}

/// [`VECTOR_LIST`] for space `space_id` of `dimensions` and `op` ([`distance_operator`]):
/// integers and a fixed operator, never client text.
pub fn vector_list(space_id: i32, dimensions: i32, op: &'static str) -> String {
    spingraph_guest::sql::fill(
        VECTOR_LIST,
        &[
            ("space", &space_id.to_string()),
            ("dims", &dimensions.to_string()),
            ("op", op),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MUTATIONS: [&str; 6] = [INSERT, UPDATE, REPLACE, SOFT_DELETE, HARD_DELETE, RESTORE];

    #[test]
    fn vectors_go_in_as_text_and_come_out_as_text_inside_one_jsonb_row() {
        let list = vector_list(3, 384, "<=>");
        for statement in [
            SPACE,
            VECTOR,
            VECTORS,
            PUT_VECTOR,
            PUT_VECTORS,
            DELETE_VECTOR,
            DUPLICATES,
        ] {
            assert!(statement.contains(" AS j"), "{statement}");
            assert!(statement.starts_with("SELECT ") || statement.starts_with("WITH "));
        }
        // every vector a client sends is bound as text and cast
        assert!(PUT_VECTOR.contains("$3::text::vector"));
        assert!(PUT_VECTORS.contains("vector text)") && PUT_VECTORS.contains("::text::vector"));
        // every vector read leaves as pgvector's text inside the jsonb answer
        for statement in [VECTOR, VECTORS, PUT_VECTOR] {
            assert!(
                statement.contains("'vector', x.embedding::text"),
                "{statement}"
            );
        }
        // the vector list names the space's partial index by its literals, filtered and ordered
        assert!(list.contains("c.space_id = 3 AND"), "{list}");
        assert!(
            list.contains("ORDER BY c.embedding::vector(384) <=> (SELECT q.embedding::vector(384)"),
            "{list}"
        );
        assert_eq!(distance_operator("cosine"), Some("<=>"));
        assert_eq!(distance_operator("l2"), Some("<->"));
        assert_eq!(distance_operator("inner_product"), Some("<#>"));
        assert_eq!(distance_operator("dot"), None);
        // merge copies and unmerge takes back, each with an `embedding` change
        assert!(MERGE.contains("feed_v AS ({embedding_feed})") && MERGE.contains("merged_from"));
        assert!(UNMERGE.contains("feed_v AS ({embedding_feed})") && UNMERGE.contains("taken_back"));
    }

    #[test]
    fn entity_json_renders_timestamps_as_rfc3339_text() {
        assert!(ENTITY_JSON.contains(r#"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"#));
        assert!(!ENTITY_JSON.contains("to_jsonb(e)"));
    }

    #[test]
    fn every_statement_returns_one_jsonb_row_and_every_mutation_is_audited() {
        for statement in MUTATIONS.iter().chain(&[
            INSERT_BATCH,
            MERGE,
            MERGE_RECORDS,
            UNMERGE,
            FIND,
            LIST,
            LOCK,
        ]) {
            assert!(statement.contains(" AS j"), "{statement}");
            assert!(statement.starts_with("SELECT ") || statement.starts_with("WITH "));
        }
        for statement in MUTATIONS {
            assert_eq!(
                statement.matches("log AS ({audit})").count(),
                1,
                "{statement}"
            );
        }
    }
}
