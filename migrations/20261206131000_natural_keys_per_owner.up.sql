-- Natural keys per owner (issue 25, 5b): `(type, external_id)` was unique among all live
-- entities, so the first user to write `company/crm-1` held it for everyone: another user's
-- `PUT .../by-external-id/company/crm-1` was a 403 for good, their batch `on_conflict: skip`
-- answered with the squatter's entity, and their relationships by natural key attached to it.
-- A natural key is now `(owner_id, type, external_id)`: each owner has a namespace of their
-- own, and the API looks a key up in the caller's (or, with `owner_id`, a named owner's).
--
-- Every key the old index admitted is unique under the new one too (it is a finer partition),
-- so this cannot fail on existing data. Lookups name the owner first: the index serves them.

DROP INDEX entities_external_id_key;
CREATE UNIQUE INDEX entities_external_id_key ON entities (owner_id, type, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
