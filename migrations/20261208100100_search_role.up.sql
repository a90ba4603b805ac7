-- The search component's own role (issue 28: components/search, `POST /v1/search` and the
-- embedding spaces). It reads the graph, the vectors and the text documents, and writes nothing
-- of them: an admin's space is made and dropped through embedding_space_create/_drop, which run
-- as the owner (a component may not create indexes). It also reads what its `authn` dependency
-- (which inherits the component's `database_url`) reads to authenticate a caller, exactly the
-- reports role's authn grants (20261207150000_reports_role).
--
-- As in 20261202110000_component_roles: the role is cluster-wide and may exist already (made by
-- another database's migration, or a DBA); grants are per database.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spingraph_search') THEN
        BEGIN
            CREATE ROLE spingraph_search LOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- made by another database's migration (committed, or committed while we waited)
        END;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO spingraph_search', current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO spingraph_search;

-- POST /v1/search: hits (entities), their vectors and text documents, and with `expand` the
-- relationships around them.
GRANT SELECT ON entities, relationships, embeddings, embedding_spaces, entity_documents,
                search_text_fields TO spingraph_search;
-- The embedding spaces (admin): made and dropped as the owner, with their indexes.
GRANT EXECUTE ON FUNCTION embedding_space_create(text, integer, text, text, uuid),
                          embedding_space_drop(text) TO spingraph_search;

-- authn: the caller's standing and session, an API key found by the hash presented.
GRANT SELECT (id, email, role, active, token_generation) ON users TO spingraph_search;
GRANT SELECT (family_id, revoked_at) ON refresh_tokens TO spingraph_search;
GRANT EXECUTE ON FUNCTION api_key_lookup(text) TO spingraph_search;
