-- Who did what to which resource, for every mutation (SPEC §4). Append-only by
-- convention; `actor_id` is NULL for actions taken outside the API (the CLI).

CREATE TABLE audit_log (
    id            uuid        NOT NULL DEFAULT uuid_generate_v7(),
    actor_id      uuid,
    action        text        NOT NULL,
    resource_type text        NOT NULL,
    resource_id   uuid,
    request_id    text,
    at            timestamptz NOT NULL DEFAULT now(),
    details       jsonb,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id),
    CONSTRAINT audit_log_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT audit_log_action_check CHECK (char_length(action) BETWEEN 1 AND 64),
    CONSTRAINT audit_log_resource_type_check CHECK (char_length(resource_type) BETWEEN 1 AND 64),
    CONSTRAINT audit_log_request_id_check CHECK (request_id IS NULL OR char_length(request_id) BETWEEN 1 AND 128),
    CONSTRAINT audit_log_details_check CHECK (details IS NULL OR jsonb_typeof(details) = 'object')
);

-- A resource's history, an actor's history, and time-range reads.
CREATE INDEX audit_log_resource_idx ON audit_log (resource_type, resource_id, at);
CREATE INDEX audit_log_actor_id_idx ON audit_log (actor_id, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);
