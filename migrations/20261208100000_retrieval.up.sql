-- Retrieval for AI pipelines (issue 28): embedding spaces and entity embeddings (pgvector), the
-- full-text documents of entities, and the change feed's `embedding` op. The search component's
-- own role and its grants come in 20261208100100_search_role.

-- pgvector 0.8.0 or newer: its iterative index scans (hnsw.iterative_scan) keep a filtered
-- nearest-neighbour search whole. A server without it fails here, saying what to install, before
-- anything is changed.
DO $$
DECLARE
    available text;
BEGIN
    SELECT default_version INTO available FROM pg_available_extensions WHERE name = 'vector';
    IF available IS NULL THEN
        RAISE EXCEPTION 'the pgvector extension is not installed on this PostgreSQL server: spingraph needs pgvector 0.8.0 or newer'
            USING HINT = 'Install pgvector for this server (Debian/Ubuntu with the PGDG repository: apt-get install postgresql-<major>-pgvector; CloudNativePG''s standard images and the large managed services ship it), or let ./dev start its own PostgreSQL with pgvector (README, "PostgreSQL with pgvector").';
    END IF;
    IF string_to_array(split_part(available, '-', 1), '.')::int[] < ARRAY[0, 8, 0] THEN
        RAISE EXCEPTION 'pgvector % is installed on this PostgreSQL server: spingraph needs 0.8.0 or newer (iterative index scans)', available
            USING HINT = 'Upgrade the server''s pgvector package, then run the migration again.';
    END IF;
END
$$;
CREATE EXTENSION IF NOT EXISTS vector;

-- A named space of vectors of one model: every vector in it has `dimensions` numbers and is
-- compared by `distance`. 2000 is the most pgvector's HNSW indexes take for `vector`.
CREATE TABLE embedding_spaces (
    id         integer     GENERATED ALWAYS AS IDENTITY,
    name       text        NOT NULL,
    dimensions integer     NOT NULL,
    distance   text        NOT NULL,
    model      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    CONSTRAINT embedding_spaces_pkey PRIMARY KEY (id),
    CONSTRAINT embedding_spaces_name_key UNIQUE (name),
    CONSTRAINT embedding_spaces_name_check CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    CONSTRAINT embedding_spaces_dimensions_check CHECK (dimensions BETWEEN 1 AND 2000),
    CONSTRAINT embedding_spaces_distance_check CHECK (distance IN ('cosine', 'l2', 'inner_product')),
    CONSTRAINT embedding_spaces_model_check CHECK (model IS NULL OR char_length(model) BETWEEN 1 AND 200),
    CONSTRAINT embedding_spaces_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id)
);

-- One vector per (space, entity). The column has no fixed dimension (spaces differ); each space
-- has an HNSW index of its own over `embedding::vector(<dimensions>)`, partial on its id (made
-- by embedding_space_create), so a query names the space's id and dimensions as literals in its
-- text: a parameter could not match the index's predicate in a generic plan.
-- Vectors cross the pg4 boundary (Spin's Postgres interface) as text: `$n::text::vector` in,
-- `embedding::text` out; no statement returns a column of type `vector`.
CREATE TABLE embeddings (
    space_id   integer     NOT NULL,
    entity_id  uuid        NOT NULL,
    embedding  vector      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid,
    -- Set on a survivor's vector copied from an entity merged into it (the survivor had none in
    -- the space): the merge that copied it, so unmerging takes it back.
    merged_from uuid,
    CONSTRAINT embeddings_pkey PRIMARY KEY (space_id, entity_id),
    CONSTRAINT embeddings_space_id_fkey FOREIGN KEY (space_id) REFERENCES embedding_spaces (id) ON DELETE CASCADE,
    CONSTRAINT embeddings_entity_id_fkey FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE,
    CONSTRAINT embeddings_updated_by_fkey FOREIGN KEY (updated_by) REFERENCES users (id),
    CONSTRAINT embeddings_merged_from_fkey FOREIGN KEY (merged_from) REFERENCES merges (id) ON DELETE SET NULL
);
-- An entity's vectors (GET of all its spaces, merge, purge).
CREATE INDEX embeddings_entity_id_idx ON embeddings (entity_id);

-- The backstop of the API's own 422: a vector of the wrong length never lands in a space (the
-- space's index cast would fail on it later, in someone else's search).
CREATE FUNCTION embeddings_check_dimensions() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    want integer;
BEGIN
    SELECT s.dimensions INTO want FROM embedding_spaces s WHERE s.id = NEW.space_id;
    IF want IS NOT NULL AND vector_dims(NEW.embedding) <> want THEN
        RAISE EXCEPTION 'embedding of % dimensions in a space of %', vector_dims(NEW.embedding), want
            USING ERRCODE = 'check_violation', CONSTRAINT = 'embeddings_dimensions_check';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER embeddings_check_dimensions
    BEFORE INSERT OR UPDATE OF embedding, space_id ON embeddings
    FOR EACH ROW EXECUTE FUNCTION embeddings_check_dimensions();

-- Register a space and build its (empty) index. Runs as the owner: components may not create
-- indexes. A taken name is a unique_violation (embedding_spaces_name_key).
CREATE FUNCTION embedding_space_create(p_name text, p_dimensions integer, p_distance text,
                                       p_model text, p_actor uuid)
RETURNS SETOF embedding_spaces
LANGUAGE plpgsql
VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    s embedding_spaces;
BEGIN
    INSERT INTO embedding_spaces (name, dimensions, distance, model, created_by)
    VALUES (p_name, p_dimensions, p_distance, p_model, p_actor)
    RETURNING * INTO s;
    EXECUTE format('CREATE INDEX %I ON embeddings USING hnsw ((embedding::vector(%s)) %s) WHERE space_id = %s',
                   'embeddings_space_' || s.id || '_hnsw', s.dimensions,
                   CASE s.distance WHEN 'cosine' THEN 'vector_cosine_ops'
                                   WHEN 'l2' THEN 'vector_l2_ops'
                                   ELSE 'vector_ip_ops' END,
                   s.id);
    RETURN NEXT s;
END
$$;
REVOKE ALL ON FUNCTION embedding_space_create(text, integer, text, text, uuid) FROM PUBLIC;

-- Drop a space, its vectors and its index; no row when there is no such space.
CREATE FUNCTION embedding_space_drop(p_name text)
RETURNS SETOF embedding_spaces
LANGUAGE plpgsql
VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    s embedding_spaces;
BEGIN
    DELETE FROM embedding_spaces WHERE name = p_name RETURNING * INTO s;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    EXECUTE format('DROP INDEX IF EXISTS %I', 'embeddings_space_' || s.id || '_hnsw');
    RETURN NEXT s;
END
$$;
REVOKE ALL ON FUNCTION embedding_space_drop(text) FROM PUBLIC;

-- Full-text: which metadata fields (top-level keys holding strings) join an entity's name in its
-- text document. Declared here, changed by an admin; the documents follow on write.
CREATE TABLE search_text_fields (
    field text NOT NULL,
    CONSTRAINT search_text_fields_pkey PRIMARY KEY (field),
    CONSTRAINT search_text_fields_field_check CHECK (field ~ '^[A-Za-z0-9_.-]{1,64}$')
);
INSERT INTO search_text_fields (field) VALUES ('description'), ('summary'), ('aliases');

-- An entity's text document: its name (weight A) and its declared metadata fields (weight B), in
-- the `english` configuration. A table of its own, not a column of entities: the change feed's
-- and history's documents are whole entity rows and must not carry it.
CREATE TABLE entity_documents (
    entity_id uuid     NOT NULL,
    document  tsvector NOT NULL,
    CONSTRAINT entity_documents_pkey PRIMARY KEY (entity_id),
    CONSTRAINT entity_documents_entity_id_fkey FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE
);
CREATE INDEX entity_documents_document_idx ON entity_documents USING gin (document);

CREATE FUNCTION entity_text_document(p_name text, p_metadata jsonb) RETURNS tsvector
LANGUAGE sql
STABLE
SET search_path = public, pg_catalog, pg_temp
AS $$
    SELECT setweight(to_tsvector('english', p_name), 'A')
        || setweight(to_tsvector('english', coalesce(
               (SELECT string_agg(p_metadata ->> f.field, ' ' ORDER BY f.field)
                  FROM search_text_fields f
                 WHERE jsonb_typeof(p_metadata -> f.field) = 'string'), '')), 'B')
$$;

-- Kept in step with every write of a name or metadata, whoever writes (the API, `spingraph
-- import`, merge): the trigger runs as the owner, so no component role needs the table.
CREATE FUNCTION entity_documents_sync() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    INSERT INTO entity_documents AS d (entity_id, document)
    VALUES (NEW.id, entity_text_document(NEW.name, NEW.metadata))
    ON CONFLICT (entity_id) DO UPDATE SET document = EXCLUDED.document
    WHERE d.document IS DISTINCT FROM EXCLUDED.document;
    RETURN NULL;
END
$$;
CREATE TRIGGER entity_documents_sync
    AFTER INSERT OR UPDATE OF name, metadata ON entities
    FOR EACH ROW EXECUTE FUNCTION entity_documents_sync();

INSERT INTO entity_documents (entity_id, document)
SELECT e.id, entity_text_document(e.name, e.metadata) FROM entities e;

-- The change feed says when an entity's embedding changed (op 'embedding'), so a re-indexer can
-- follow it.
ALTER TABLE changes DROP CONSTRAINT changes_op_check;
ALTER TABLE changes ADD CONSTRAINT changes_op_check
    CHECK (op IN ('create', 'update', 'delete', 'restore', 'merge', 'embedding'));

-- The entities component (role spingraph_data): an entity's vectors (PUT/GET/DELETE, the batch,
-- merge, duplicates) and the spaces they belong to.
GRANT SELECT, INSERT, UPDATE, DELETE ON embeddings TO spingraph_data;
GRANT SELECT ON embedding_spaces TO spingraph_data;
