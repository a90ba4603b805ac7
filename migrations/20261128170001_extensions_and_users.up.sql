-- Extensions, the UUIDv7 id generator, and the users table.

-- Trigram index support for the entity name search (`GET /v1/entities?q=`).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Time-ordered UUIDv7 ids (RFC 9562) for rows inserted without an explicit id;
-- the application normally supplies its own UUIDv7. Postgres 15 has no built-in.
CREATE FUNCTION uuid_generate_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE
AS $$
    SELECT encode(
        set_bit(
            set_bit(
                overlay(uuid_send(gen_random_uuid())
                        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                        FROM 1 FOR 6),
                52, 1),
            53, 1),
        'hex')::uuid
$$;

CREATE TABLE users (
    id              uuid        NOT NULL DEFAULT uuid_generate_v7(),
    email           text        NOT NULL,
    password_hash   text        NOT NULL,
    role            text        NOT NULL DEFAULT 'user',
    active          boolean     NOT NULL DEFAULT true,
    failed_attempts integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    lockout_count   integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_check CHECK (char_length(email) BETWEEN 3 AND 320 AND email = btrim(email) AND position('@' IN email) > 1),
    CONSTRAINT users_password_hash_check CHECK (char_length(password_hash) > 0),
    CONSTRAINT users_role_check CHECK (role IN ('admin', 'user')),
    CONSTRAINT users_failed_attempts_check CHECK (failed_attempts >= 0),
    CONSTRAINT users_lockout_count_check CHECK (lockout_count >= 0)
);

-- One account per address, whatever its case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
-- `GET /v1/auth/users` pages by creation time.
CREATE INDEX users_created_at_idx ON users (created_at, id);
