-- The reports component's own role (issue 30, item 2: components/reports, in Python). It reads,
-- and only reads: the columns its type report counts, and what its `authn` dependency (which
-- inherits the component's `database_url`) reads to authenticate a caller, exactly the data
-- group's authn grants of 20261202110000_component_roles and 20261206150000 (a user's standing,
-- whether a session was revoked, an API key by the hash presented). No password hashes, no entity
-- names or metadata, no writes, no audit rows (the trigger of 20261206150000 admits none of its
-- kind).
--
-- As in 20261202110000_component_roles: the role is cluster-wide and may exist already (made by
-- another database's migration, or a DBA); grants are per database.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spingraph_reports') THEN
        BEGIN
            CREATE ROLE spingraph_reports LOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- made by another database's migration (committed, or committed while we waited)
        END;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO spingraph_reports', current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO spingraph_reports;

-- GET /v1/reports/types: a principal's live entities (deleted_at IS NULL; a merged one is
-- soft-deleted) counted by type.
GRANT SELECT (owner_id, type, deleted_at) ON entities TO spingraph_reports;

-- authn: the caller's standing and session (components/authn/src/token.rs), an API key found by
-- the hash presented (components/authn/src/api_key.rs; api_key_lookup records its use as the
-- owner, so the role itself writes nothing).
GRANT SELECT (id, email, role, active, token_generation) ON users TO spingraph_reports;
GRANT SELECT (family_id, revoked_at) ON refresh_tokens TO spingraph_reports;
GRANT EXECUTE ON FUNCTION api_key_lookup(text) TO spingraph_reports;
