-- Typed entities with a confidence score and JSON metadata; soft-deleted rows
-- keep `deleted_at`/`deleted_by` and drop out of every partial index below.

CREATE TABLE entities (
    id         uuid             NOT NULL DEFAULT uuid_generate_v7(),
    type       text             NOT NULL,
    name       text             NOT NULL,
    confidence double precision NOT NULL DEFAULT 1.0,
    metadata   jsonb            NOT NULL DEFAULT '{}'::jsonb,
    owner_id   uuid             NOT NULL,
    version    bigint           NOT NULL DEFAULT 1,
    created_at timestamptz      NOT NULL DEFAULT now(),
    updated_at timestamptz      NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    deleted_by uuid,
    CONSTRAINT entities_pkey PRIMARY KEY (id),
    CONSTRAINT entities_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id),
    CONSTRAINT entities_deleted_by_fkey FOREIGN KEY (deleted_by) REFERENCES users (id),
    CONSTRAINT entities_type_check CHECK (char_length(type) BETWEEN 1 AND 64),
    CONSTRAINT entities_name_check CHECK (char_length(name) BETWEEN 1 AND 512),
    -- NaN and ±Infinity fall outside 0..1 in Postgres ordering, so this also means finite.
    CONSTRAINT entities_confidence_check CHECK (confidence >= 0 AND confidence <= 1),
    CONSTRAINT entities_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    CONSTRAINT entities_version_check CHECK (version >= 1),
    CONSTRAINT entities_deleted_by_check CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL)
);

-- List filters and sorts of `GET /v1/entities` over live rows. Every sort key
-- ends in `id` so keyset (cursor) pagination is a single index range.
CREATE INDEX entities_created_at_idx ON entities (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX entities_name_idx ON entities (name, id) WHERE deleted_at IS NULL;
CREATE INDEX entities_confidence_idx ON entities (confidence, id) WHERE deleted_at IS NULL;
CREATE INDEX entities_type_idx ON entities (type, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX entities_owner_id_idx ON entities (owner_id, created_at, id) WHERE deleted_at IS NULL;
-- `metadata={"k":"v"}` containment (@>).
CREATE INDEX entities_metadata_idx ON entities USING gin (metadata jsonb_path_ops) WHERE deleted_at IS NULL;
-- `q=` name search (ILIKE '%q%' and similarity).
CREATE INDEX entities_name_trgm_idx ON entities USING gin (name gin_trgm_ops) WHERE deleted_at IS NULL;
-- `include_deleted=true` (admin) and restore: the deleted rows themselves.
CREATE INDEX entities_deleted_at_idx ON entities (deleted_at, id) WHERE deleted_at IS NOT NULL;
