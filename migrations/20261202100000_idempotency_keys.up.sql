-- Idempotent writes (issue 16): the stored answer to the first POST/PATCH a principal sent with
-- an `Idempotency-Key`. The row is inserted in the write's own transaction before the write, so
-- a concurrent duplicate blocks on it and then replays; a write that fails rolls it back too.

CREATE TABLE idempotency_keys (
    user_id          uuid        NOT NULL,
    key              text        NOT NULL,
    -- SHA-256 (hex) of method, path and body: the same key with another request is a 422.
    request_hash     text        NOT NULL,
    -- NULL only inside the first request's own transaction (never seen committed).
    status           integer,
    response_body    text,
    -- The response headers a replay repeats (Location, ETag), as an object of strings.
    response_headers jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT idempotency_keys_key_check CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_request_hash_check CHECK (char_length(request_hash) = 64),
    CONSTRAINT idempotency_keys_status_check CHECK (status IS NULL OR status BETWEEN 100 AND 599),
    CONSTRAINT idempotency_keys_response_headers_check CHECK (jsonb_typeof(response_headers) = 'object'),
    CONSTRAINT idempotency_keys_expiry_check CHECK (expires_at > created_at)
);

-- Purging expired keys.
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
