-- What each merge did, so it can be undone (issue 29, item 2: `POST /v1/entities/{id}/unmerge`).
-- The MERGE statement writes these rows itself, in the same statement as the merge; an unmerge
-- reads them and marks them undone. Merges made before this migration have no record and cannot
-- be undone.

-- One merge: into which survivor, by whom, when. `metadata_before` / `metadata_after`: the
-- survivor's metadata before and after, only when `metadata: merge` changed it (an unmerge puts
-- `metadata_before` back while the survivor still has `metadata_after`). `undone_at`: when the
-- last entity it folded in was unmerged.
CREATE TABLE merges (
    id              uuid        NOT NULL,
    survivor_id     uuid        NOT NULL,
    actor_id        uuid        NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    metadata_before jsonb,
    metadata_after  jsonb,
    undone_at       timestamptz,
    undone_by       uuid,
    CONSTRAINT merges_pkey PRIMARY KEY (id),
    -- A survivor deleted for good takes its merges along (its merged entities are no longer
    -- merged into anything: entities_merged_into_fkey sets them NULL).
    CONSTRAINT merges_survivor_id_fkey FOREIGN KEY (survivor_id) REFERENCES entities (id) ON DELETE CASCADE,
    CONSTRAINT merges_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id),
    CONSTRAINT merges_undone_by_fkey FOREIGN KEY (undone_by) REFERENCES users (id),
    CONSTRAINT merges_metadata_check CHECK ((metadata_before IS NULL) = (metadata_after IS NULL)),
    CONSTRAINT merges_undone_check CHECK ((undone_at IS NULL) = (undone_by IS NULL))
);
CREATE INDEX merges_survivor_id_idx ON merges (survivor_id);

-- The entities a merge changed: each one it folded in (`repointed_from` NULL), and each one merged
-- earlier into one of those, which the merge re-pointed at the survivor (`repointed_from`: the
-- entity it was merged into before). Undone one folded-in entity at a time, its re-pointed ones
-- with it.
CREATE TABLE merge_entities (
    merge_id       uuid        NOT NULL,
    entity_id      uuid        NOT NULL,
    repointed_from uuid,
    undone_at      timestamptz,
    undone_by      uuid,
    CONSTRAINT merge_entities_pkey PRIMARY KEY (merge_id, entity_id),
    CONSTRAINT merge_entities_merge_id_fkey FOREIGN KEY (merge_id) REFERENCES merges (id) ON DELETE CASCADE,
    CONSTRAINT merge_entities_entity_id_fkey FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE,
    CONSTRAINT merge_entities_undone_by_fkey FOREIGN KEY (undone_by) REFERENCES users (id),
    CONSTRAINT merge_entities_undone_check CHECK ((undone_at IS NULL) = (undone_by IS NULL))
);
-- An unmerge finds an entity's merge (and a hard delete its rows).
CREATE INDEX merge_entities_entity_id_idx ON merge_entities (entity_id);

-- The relationships a merge moved to the survivor (`dropped` false) or soft-deleted (true): their
-- ends and version before it, and their version after it. No foreign key to the relationship:
-- one deleted for good since is a conflict an unmerge must name, not a row that vanishes.
CREATE TABLE merge_relationships (
    merge_id        uuid    NOT NULL,
    relationship_id uuid    NOT NULL,
    dropped         boolean NOT NULL,
    source_before   uuid    NOT NULL,
    target_before   uuid    NOT NULL,
    version_before  bigint  NOT NULL,
    version_after   bigint  NOT NULL,
    CONSTRAINT merge_relationships_pkey PRIMARY KEY (merge_id, relationship_id),
    CONSTRAINT merge_relationships_merge_id_fkey FOREIGN KEY (merge_id) REFERENCES merges (id) ON DELETE CASCADE,
    CONSTRAINT merge_relationships_versions_check CHECK (version_after > version_before)
);
-- An unmerge that puts a relationship back as an earlier merge left it keeps that merge undoable
-- (it moves the earlier record's `version_after` on): found by relationship.
CREATE INDEX merge_relationships_relationship_id_idx ON merge_relationships (relationship_id);

-- The change that made an unmerge impossible, named in its 409: a resource's changes by version.
CREATE INDEX changes_resource_id_version_idx ON changes (resource_id, version);

-- entities (spingraph_data) writes the records in a merge and marks them undone in an unmerge;
-- nothing deletes them but the cascades.
GRANT SELECT, INSERT ON merges, merge_entities, merge_relationships TO spingraph_data;
GRANT UPDATE (undone_at, undone_by) ON merges, merge_entities TO spingraph_data;
GRANT UPDATE (version_after) ON merge_relationships TO spingraph_data;
