-- Refresh tokens (rotated, grouped in families for reuse detection) and API keys.
-- Only hashes of the secrets are stored.

CREATE TABLE refresh_tokens (
    id          uuid        NOT NULL DEFAULT uuid_generate_v7(),
    user_id     uuid        NOT NULL,
    family_id   uuid        NOT NULL,
    token_hash  text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    replaced_by uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT refresh_tokens_replaced_by_fkey FOREIGN KEY (replaced_by) REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT refresh_tokens_token_hash_check CHECK (char_length(token_hash) > 0),
    CONSTRAINT refresh_tokens_expiry_check CHECK (expires_at > created_at),
    CONSTRAINT refresh_tokens_replaced_by_check CHECK (replaced_by IS NULL OR replaced_by <> id)
);

-- Reuse detection revokes a whole family; logout revokes the user's families.
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
-- Purging expired tokens.
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

CREATE TABLE api_keys (
    id           uuid        NOT NULL DEFAULT uuid_generate_v7(),
    user_id      uuid        NOT NULL,
    name         text        NOT NULL,
    -- The first characters of the key, shown in listings so a user can tell keys apart.
    prefix       text,
    key_hash     text        NOT NULL,
    scopes       text[]      NOT NULL DEFAULT '{}',
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
    CONSTRAINT api_keys_name_check CHECK (char_length(name) BETWEEN 1 AND 128),
    CONSTRAINT api_keys_prefix_check CHECK (prefix IS NULL OR char_length(prefix) BETWEEN 1 AND 32),
    CONSTRAINT api_keys_key_hash_check CHECK (char_length(key_hash) > 0),
    CONSTRAINT api_keys_scopes_check CHECK (
        array_position(scopes, NULL) IS NULL
        AND scopes <@ ARRAY['entities:read', 'entities:write', 'relationships:read', 'relationships:write', 'admin']::text[]
    )
);

-- `GET /v1/auth/api-keys` lists the caller's keys, newest first.
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id, created_at);
