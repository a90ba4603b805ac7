DELETE FROM changes WHERE op = 'embedding';
ALTER TABLE changes DROP CONSTRAINT changes_op_check;
ALTER TABLE changes ADD CONSTRAINT changes_op_check
    CHECK (op IN ('create', 'update', 'delete', 'restore', 'merge'));
DROP TRIGGER entity_documents_sync ON entities;
DROP FUNCTION entity_documents_sync();
DROP TABLE entity_documents;
DROP FUNCTION entity_text_document(text, jsonb);
DROP TABLE search_text_fields;
DROP FUNCTION embedding_space_drop(text);
DROP FUNCTION embedding_space_create(text, integer, text, text, uuid);
DROP TABLE embeddings;
DROP FUNCTION embeddings_check_dimensions();
DROP TABLE embedding_spaces;
-- As the first migration's down drops pg_trgm: down to zero leaves nothing of ours behind.
DROP EXTENSION IF EXISTS vector;
