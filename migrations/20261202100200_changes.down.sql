UPDATE api_keys SET scopes = array_remove(scopes, 'changes:read');
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
    array_position(scopes, NULL) IS NULL
    AND scopes <@ ARRAY['entities:read', 'entities:write', 'relationships:read', 'relationships:write', 'admin']::text[]
);
DROP TABLE changes;
