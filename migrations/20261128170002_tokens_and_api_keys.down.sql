DROP TABLE api_keys;
DROP TABLE refresh_tokens;
