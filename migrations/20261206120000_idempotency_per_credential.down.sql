-- Back to one namespace per user: of the keys one user used with several credentials, the
-- oldest row is kept (the others could only replay across credentials again).
DELETE FROM idempotency_keys a USING idempotency_keys b
 WHERE a.user_id = b.user_id AND a.key = b.key
   AND (a.created_at, a.credential) > (b.created_at, b.credential);
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
    DROP CONSTRAINT idempotency_keys_credential_check;
ALTER TABLE idempotency_keys DROP COLUMN credential;
