DROP FUNCTION sign_in_attempt(text, text, integer, integer);
ALTER TABLE users DROP COLUMN next_attempt_at, DROP COLUMN last_failed_at;
DROP TABLE sign_in_networks;
