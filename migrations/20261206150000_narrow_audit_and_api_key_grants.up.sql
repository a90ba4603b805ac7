-- Issue 25, 5e: what the component groups' roles may write to the audit log, and how the data
-- group finds an API key (docs/security.md, "One database role per component group").
--
-- 1. The audit log. Each group's role may append only its own kind of row, checked by a
--    statement-level trigger over the rows it wrote (it sees the statement's other writes, such
--    as the user a sign-up makes in the same statement):
--      spingraph_auth  actions user.*, token.*, api_key.*, auth.* on a user, refresh_family or
--                      api_key; the actor a user, or NULL (a stranger, the system);
--      spingraph_data  actions entity.*, relationship.* on an entity or relationship; the actor
--                      a user, never NULL (every data write is a signed-in user's).
--    spingraph_health writes no audit rows and loses the grant. The owner (migrations, `spingraph
--    admin`) is not held to this: it could drop the trigger. Which user a row names stays the
--    component's word: Postgres never sees the caller's credential (docs/security.md).
--    A refused row is insufficient_privilege (a bug, or a component acting outside its group:
--    500); an actor that is no user is refused by audit_log's foreign key. The actor need not be
--    active: a user deactivated while their request ran still did
--    what the row records (and a check that raced deactivation would answer differently on
--    Spin 3.6.3, where an error after the rows carries no SQLSTATE).
-- 2. API keys. spingraph_data (authn in entities and relationships) no longer reads api_keys: it
--    calls api_key_lookup(hash), which returns only the key with that hash (never a hash) and
--    records its use, as the owner. It cannot list keys or read their hashes.

CREATE FUNCTION audit_log_check_writers() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    -- The table's owner (and superusers) write what they like.
    IF pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
        RETURN NULL;
    END IF;
    -- The first row the writing role may not write, and why.
    SELECT w.action, w.resource_type, w.actor_id,
           CASE
               WHEN NOT (w.as_auth OR w.as_data) THEN 'kind'
               WHEN w.actor_id IS NULL AND NOT w.as_auth THEN 'anonymous'
           END AS fault
      INTO bad
      FROM (SELECT n.action, n.resource_type, n.actor_id,
                   pg_has_role('spingraph_auth', 'USAGE')
                       AND n.action ~ '^(user|token|api_key|auth)\.'
                       AND n.resource_type IN ('user', 'refresh_family', 'api_key') AS as_auth,
                   pg_has_role('spingraph_data', 'USAGE')
                       AND n.action ~ '^(entity|relationship)\.'
                       AND n.resource_type IN ('entity', 'relationship') AS as_data
              FROM written n) w
     WHERE NOT (w.as_auth OR w.as_data)
        OR (w.actor_id IS NULL AND NOT w.as_auth)
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF bad.fault = 'anonymous' THEN
        RAISE EXCEPTION 'audit_log: role % may not write % without an actor', current_user, bad.action
            USING ERRCODE = 'insufficient_privilege';
    ELSE
        RAISE EXCEPTION 'audit_log: role % may not write action % on %', current_user, bad.action,
                        bad.resource_type
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

CREATE TRIGGER audit_log_check_writers
    AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_check_writers();

REVOKE ALL ON audit_log FROM spingraph_health;

-- The one key whose hash was presented, with what authn judges it by (its owner's standing
-- comes from the users columns the role reads); its use recorded at most once a minute. No
-- row for an unknown hash.
CREATE FUNCTION api_key_lookup(presented_hash text)
RETURNS TABLE (id uuid, user_id uuid, scopes text[], expires_at timestamptz, revoked_at timestamptz)
LANGUAGE sql
VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH k AS (
        SELECT k.id, k.user_id, k.scopes, k.expires_at, k.revoked_at, k.last_used_at
        FROM public.api_keys k
        WHERE k.key_hash = presented_hash
    ), touched AS (
        UPDATE public.api_keys t SET last_used_at = now()
        FROM k
        WHERE t.id = k.id AND k.revoked_at IS NULL
          AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds')
        RETURNING t.id
    )
    SELECT k.id, k.user_id, k.scopes, k.expires_at, k.revoked_at FROM k
$$;

REVOKE ALL ON FUNCTION api_key_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_key_lookup(text) TO spingraph_auth, spingraph_data;
REVOKE ALL ON api_keys FROM spingraph_data;
