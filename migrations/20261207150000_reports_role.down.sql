-- The role stays: it is cluster-wide and other databases may use it. Only this database's grants
-- are taken back.
REVOKE EXECUTE ON FUNCTION api_key_lookup(text) FROM spingraph_reports;
REVOKE ALL ON entities, users, refresh_tokens FROM spingraph_reports;
REVOKE USAGE ON SCHEMA public FROM spingraph_reports;
DO $$
BEGIN
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM spingraph_reports', current_database());
END
$$;
