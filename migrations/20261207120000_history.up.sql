-- As-of reads (issue 29, item 1): `as_of=<instant>` answers from `changes`, which holds each
-- entity's and relationship's document after every change (NULL: deleted). The history is
-- complete for a resource when its first change row is its `create`. A database written before
-- the change feed existed (20261202100200_changes) has resources without one, so:
--
-- 1. `history.complete_since`: the first instant an as-of read may ask for. '-infinity' when every
--    resource's history is whole (every database created since the change feed), else now: as-of
--    reads start here, and a read before it is a 422 naming the horizon.
CREATE TABLE history (
    only_row       boolean     NOT NULL DEFAULT true,
    complete_since timestamptz NOT NULL,
    CONSTRAINT history_pkey PRIMARY KEY (only_row),
    CONSTRAINT history_only_row_check CHECK (only_row)
);
INSERT INTO history (complete_since)
SELECT CASE WHEN EXISTS (
    SELECT 1 FROM entities x WHERE NOT EXISTS (
        SELECT 1 FROM changes c WHERE c.resource_id = x.id AND c.op = 'create')
    UNION ALL
    SELECT 1 FROM relationships x WHERE NOT EXISTS (
        SELECT 1 FROM changes c WHERE c.resource_id = x.id AND c.op = 'create')
) THEN now() ELSE '-infinity'::timestamptz END;

-- 2. A resource with no change row at all gets one holding its document as it is now (`at`: its
--    last update), so as-of reads from the horizon on see it. Deleted ones need none (no row is
--    "deleted"), except merged ones, whose document says where they went.
INSERT INTO changes (kind, op, resource_id, type, version, at, document)
SELECT 'entity', 'update', e.id, e.type, e.version, e.updated_at,
       jsonb_strip_nulls(jsonb_build_object(
           'id', e.id, 'type', e.type, 'name', e.name, 'confidence', e.confidence,
           'metadata', e.metadata, 'owner_id', e.owner_id, 'version', e.version,
           'created_at', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'updated_at', to_char(e.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'deleted_at', to_char(e.deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           'deleted_by', e.deleted_by, 'merged_into', e.merged_into)) || jsonb_build_object('external_id', e.external_id)
  FROM entities e
 WHERE (e.deleted_at IS NULL OR e.merged_into IS NOT NULL)
   AND NOT EXISTS (SELECT 1 FROM changes c WHERE c.resource_id = e.id);
INSERT INTO changes (kind, op, resource_id, type, version, at, document)
SELECT 'relationship', 'update', r.id, r.type, r.version, r.updated_at,
       jsonb_build_object(
           'id', r.id, 'source_id', r.source_id, 'target_id', r.target_id, 'type', r.type,
           'confidence', r.confidence, 'metadata', r.metadata, 'created_by', r.created_by,
           'version', r.version, 'created_at', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'updated_at', to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
  FROM relationships r
 WHERE r.deleted_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM changes c WHERE c.resource_id = r.id);

-- An as-of read finds each resource's changes through `changes (resource_id, version)`
-- (20261207100000_merge_records): no index of its own, so writes pay nothing more.

GRANT SELECT ON history TO spingraph_data;
