DROP TABLE users;
DROP FUNCTION uuid_generate_v7();
DROP EXTENSION pg_trgm;
