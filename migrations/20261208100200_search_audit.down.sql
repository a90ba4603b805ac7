-- The search role writes no audit rows again (the function as 20261207110000_export made it).
REVOKE INSERT ON audit_log FROM spingraph_search;

CREATE OR REPLACE FUNCTION audit_log_check_writers() RETURNS trigger
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
                       AND ((n.action ~ '^(entity|relationship)\.'
                             AND n.resource_type IN ('entity', 'relationship'))
                            OR (n.action = 'graph.export' AND n.resource_type = 'graph')) AS as_data
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
