-- Session hardening (issue 13): every sign-in session (refresh family) gets an absolute end,
-- and every user a token generation that demotion and deactivation bump, so `authn` can refuse
-- tokens issued before such a change however close to it (a JWT `iat` has 1-second resolution).

-- The end of the family this token belongs to: set at sign-in, copied by every rotation.
ALTER TABLE refresh_tokens ADD COLUMN session_expires_at timestamptz;
UPDATE refresh_tokens r SET session_expires_at = f.started + interval '30 days'
FROM (SELECT family_id, min(created_at) AS started FROM refresh_tokens GROUP BY family_id) f
WHERE f.family_id = r.family_id;
ALTER TABLE refresh_tokens
    ALTER COLUMN session_expires_at SET DEFAULT now() + interval '30 days',
    ALTER COLUMN session_expires_at SET NOT NULL;

-- Access tokens carry the generation they were issued under (`gen`); older ones are refused.
ALTER TABLE users ADD COLUMN token_generation bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT users_token_generation_check CHECK (token_generation >= 0);
