-- Least privilege per component group (issue 13): one LOGIN role per group, with only the
-- grants its SQL uses. Each component connects with its group's URL variable
-- (auth_database_url, data_database_url, health_database_url in spin.toml); the owner
-- (database_url) only migrates. Roles have no password here: the local cluster trusts
-- 127.0.0.1, and a deployment sets one (ALTER ROLE ... PASSWORD) and puts it in the URL.
--
-- Roles are cluster-wide and many databases (every test database) migrate at once: creating
-- one that another migration created first, or is creating right now, is not an error.
-- Grants are per database, so they are made here, in each.
--
-- A migration that adds a table or a column a component uses grants it here-after to the
-- group that uses it; nothing is granted by default.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['spingraph_auth', 'spingraph_data', 'spingraph_health'] LOOP
        -- A role made beforehand (by a DBA, or an operator's managed roles) needs no CREATEROLE.
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r);
        BEGIN
            EXECUTE format('CREATE ROLE %I LOGIN', r);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- made by another database's migration (committed, or committed while we waited)
        END;
    END LOOP;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO spingraph_auth, spingraph_data, spingraph_health',
                   current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO spingraph_auth, spingraph_data, spingraph_health;

-- Every group may append to the audit log (and read back the id it wrote), never read it.
GRANT INSERT, SELECT (id) ON audit_log TO spingraph_auth, spingraph_data, spingraph_health;

-- auth and auth-signin (and their authn): sign-in, lockout, sessions, users, API keys.
GRANT SELECT, INSERT, UPDATE ON users, refresh_tokens, api_keys TO spingraph_auth;

-- entities and relationships: the graph, its change feed and the stored Idempotency-Key answers.
GRANT SELECT, INSERT, UPDATE, DELETE ON entities, relationships, idempotency_keys TO spingraph_data;
GRANT SELECT, INSERT ON changes TO spingraph_data;
GRANT USAGE ON SEQUENCE changes_seq_seq TO spingraph_data;
-- ... and what their authn dependency reads to authenticate a caller: the user's standing,
-- an API key and its owner, whether a session was revoked. Never users.password_hash.
GRANT SELECT (id, email, role, active, token_generation) ON users TO spingraph_data;
GRANT SELECT (id, user_id, key_hash, scopes, expires_at, revoked_at, last_used_at) ON api_keys TO spingraph_data;
GRANT UPDATE (last_used_at) ON api_keys TO spingraph_data;
GRANT SELECT (family_id, revoked_at) ON refresh_tokens TO spingraph_data;

-- health: readiness compares the applied schema version with the one it was built for.
GRANT SELECT (version, success) ON _sqlx_migrations TO spingraph_health;
