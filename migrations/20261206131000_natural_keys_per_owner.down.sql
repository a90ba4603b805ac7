-- Back to one namespace for all owners. Two owners may hold one `(type, external_id)` by now;
-- the old index cannot hold both, and which of them should lose their key is not for a
-- migration to decide (it is user data): the down stops, naming the count, and leaves the
-- schema as it was. Find them with
--   SELECT type, external_id, array_agg(owner_id) FROM entities
--    WHERE deleted_at IS NULL AND external_id IS NOT NULL
--    GROUP BY 1, 2 HAVING count(*) > 1;
-- and change or remove the keys (PATCH external_id) before migrating down.

DO $$
DECLARE
    shared bigint;
BEGIN
    SELECT count(*) INTO shared FROM (
        SELECT 1 FROM entities
         WHERE deleted_at IS NULL AND external_id IS NOT NULL
         GROUP BY type, external_id HAVING count(*) > 1) s;
    IF shared > 0 THEN
        RAISE EXCEPTION '% natural key(s) (type, external_id) are held by live entities of several owners; give each one owner before migrating down', shared;
    END IF;
END
$$;

DROP INDEX entities_external_id_key;
CREATE UNIQUE INDEX entities_external_id_key ON entities (type, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
