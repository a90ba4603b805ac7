-- Idempotency keys per credential (issue 25, 5c): a stored answer is replayed only to the
-- credential that was given it. `credential` is `api-key:<key id>` for an API key and `session`
-- for a person's bearer tokens and session cookies (crates/authn-client `replay_namespace`), so
-- a `relationships:read` key of a user cannot replay the entity that user's session created.
--
-- Rows stored before this migration have no credential (''), which none matches: a retry of a
-- write sent in the 24 h before the upgrade runs afresh rather than replaying to a credential
-- that may not be the one that sent it.

ALTER TABLE idempotency_keys ADD COLUMN credential text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ALTER COLUMN credential DROP DEFAULT;
ALTER TABLE idempotency_keys
    ADD CONSTRAINT idempotency_keys_credential_check CHECK (char_length(credential) <= 64),
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, credential, key);

-- The table-level grants of 20261202110000_component_roles (spingraph_data: SELECT, INSERT,
-- UPDATE, DELETE) cover the new column; no other role touches the table.
