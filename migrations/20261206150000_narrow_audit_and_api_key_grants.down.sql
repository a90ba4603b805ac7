-- Back to the grants of 20261202110000_component_roles: every group may append any audit row,
-- and the data group reads the API-key columns authn checks.
GRANT SELECT (id, user_id, key_hash, scopes, expires_at, revoked_at, last_used_at) ON api_keys TO spingraph_data;
GRANT UPDATE (last_used_at) ON api_keys TO spingraph_data;
DROP FUNCTION api_key_lookup(text);

GRANT INSERT, SELECT (id) ON audit_log TO spingraph_health;
DROP TRIGGER audit_log_check_writers ON audit_log;
DROP FUNCTION audit_log_check_writers();
