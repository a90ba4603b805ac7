-- The change feed (issue 16): one row per committed mutation of an entity or relationship,
-- appended in the mutation's own transaction. Readers page by (txid, seq) and are served only
-- rows of transactions older than every transaction still in flight
-- (txid < pg_snapshot_xmin(pg_current_snapshot())), so a cursor never skips a row that
-- commits later: every row still to appear has a txid at or above that horizon.

CREATE TABLE changes (
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    txid        xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- 'entity' or 'relationship'
    kind        text        NOT NULL,
    -- 'create', 'update', 'delete', 'restore', 'merge'
    op          text        NOT NULL,
    resource_id uuid        NOT NULL,
    -- The entity's or relationship's type.
    type        text        NOT NULL,
    version     bigint      NOT NULL,
    actor_id    uuid,
    at          timestamptz NOT NULL DEFAULT now(),
    -- The document after the change; NULL is a tombstone (deleted). A merged entity's 'merge'
    -- row carries it as it is now: deleted, with `merged_into` naming the survivor.
    document    jsonb,
    CONSTRAINT changes_pkey PRIMARY KEY (seq),
    CONSTRAINT changes_kind_check CHECK (kind IN ('entity', 'relationship')),
    CONSTRAINT changes_op_check CHECK (op IN ('create', 'update', 'delete', 'restore', 'merge')),
    CONSTRAINT changes_type_check CHECK (char_length(type) BETWEEN 1 AND 64),
    CONSTRAINT changes_version_check CHECK (version >= 1),
    CONSTRAINT changes_document_check CHECK (document IS NULL OR jsonb_typeof(document) = 'object')
);

-- The feed's order and cursor.
CREATE UNIQUE INDEX changes_txid_seq_key ON changes (txid, seq);

-- API keys may hold `changes:read` (GET /v1/changes).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
    array_position(scopes, NULL) IS NULL
    AND scopes <@ ARRAY['entities:read', 'entities:write', 'relationships:read', 'relationships:write', 'changes:read', 'admin']::text[]
);
