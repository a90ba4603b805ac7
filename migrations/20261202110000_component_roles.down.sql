-- The roles stay: they are cluster-wide and other databases may use them. Only this
-- database's grants are taken back.
REVOKE ALL ON _sqlx_migrations FROM spingraph_health;
REVOKE ALL ON users, refresh_tokens, api_keys, audit_log, entities, relationships, idempotency_keys, changes
    FROM spingraph_auth, spingraph_data, spingraph_health;
REVOKE ALL ON SEQUENCE changes_seq_seq FROM spingraph_data;
REVOKE USAGE ON SCHEMA public FROM spingraph_auth, spingraph_data, spingraph_health;
DO $$
BEGIN
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM spingraph_auth, spingraph_data, spingraph_health',
                   current_database());
END
$$;
