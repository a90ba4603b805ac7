ALTER TABLE users DROP CONSTRAINT users_token_generation_check, DROP COLUMN token_generation;
ALTER TABLE refresh_tokens DROP COLUMN session_expires_at;
