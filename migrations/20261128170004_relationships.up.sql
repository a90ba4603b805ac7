-- Typed, directed edges between two entities. Hard-deleting an entity removes
-- its edges; soft-deleting one hides them in queries (SPEC §4).

CREATE TABLE relationships (
    id         uuid             NOT NULL DEFAULT uuid_generate_v7(),
    source_id  uuid             NOT NULL,
    target_id  uuid             NOT NULL,
    type       text             NOT NULL,
    confidence double precision NOT NULL DEFAULT 1.0,
    metadata   jsonb            NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid             NOT NULL,
    version    bigint           NOT NULL DEFAULT 1,
    created_at timestamptz      NOT NULL DEFAULT now(),
    updated_at timestamptz      NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    deleted_by uuid,
    CONSTRAINT relationships_pkey PRIMARY KEY (id),
    CONSTRAINT relationships_source_id_fkey FOREIGN KEY (source_id) REFERENCES entities (id) ON DELETE CASCADE,
    CONSTRAINT relationships_target_id_fkey FOREIGN KEY (target_id) REFERENCES entities (id) ON DELETE CASCADE,
    CONSTRAINT relationships_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id),
    CONSTRAINT relationships_deleted_by_fkey FOREIGN KEY (deleted_by) REFERENCES users (id),
    CONSTRAINT relationships_no_self_loop CHECK (source_id <> target_id),
    CONSTRAINT relationships_type_check CHECK (char_length(type) BETWEEN 1 AND 64),
    CONSTRAINT relationships_confidence_check CHECK (confidence >= 0 AND confidence <= 1),
    CONSTRAINT relationships_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    CONSTRAINT relationships_version_check CHECK (version >= 1),
    CONSTRAINT relationships_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);

-- At most one live edge of a type between two entities (409 on a duplicate).
CREATE UNIQUE INDEX relationships_active_key ON relationships (source_id, target_id, type) WHERE deleted_at IS NULL;

-- `GET /v1/relationships` filters (source_id, target_id, entity_id = either end,
-- type) paged by creation time, and graph traversal out of / into an entity.
CREATE INDEX relationships_source_id_idx ON relationships (source_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX relationships_target_id_idx ON relationships (target_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX relationships_type_idx ON relationships (type, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX relationships_created_at_idx ON relationships (created_at, id) WHERE deleted_at IS NULL;
