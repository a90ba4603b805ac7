-- The role stays: it is cluster-wide and other databases may use it. Only this database's grants
-- are taken back.
REVOKE EXECUTE ON FUNCTION api_key_lookup(text) FROM spingraph_search;
REVOKE EXECUTE ON FUNCTION embedding_space_create(text, integer, text, text, uuid),
                           embedding_space_drop(text) FROM spingraph_search;
REVOKE ALL ON entities, relationships, embeddings, embedding_spaces, entity_documents,
              search_text_fields, users, refresh_tokens FROM spingraph_search;
REVOKE USAGE ON SCHEMA public FROM spingraph_search;
DO $$
BEGIN
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM spingraph_search', current_database());
END
$$;
