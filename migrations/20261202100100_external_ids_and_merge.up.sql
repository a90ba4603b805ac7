-- Natural keys and entity merge (issue 16).

-- `external_id`: the writer's own key for an entity, unique per type among live entities.
-- `merged_into`: the survivor a merged (soft-deleted) entity was folded into.
ALTER TABLE entities
    ADD COLUMN external_id text,
    ADD COLUMN merged_into uuid,
    ADD CONSTRAINT entities_external_id_check CHECK (external_id IS NULL OR char_length(external_id) BETWEEN 1 AND 256),
    ADD CONSTRAINT entities_merged_into_fkey FOREIGN KEY (merged_into) REFERENCES entities (id) ON DELETE SET NULL,
    ADD CONSTRAINT entities_merged_into_check CHECK (merged_into IS NULL OR (deleted_at IS NOT NULL AND merged_into <> id));

CREATE UNIQUE INDEX entities_external_id_key ON entities (type, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
-- Re-pointing entities merged into one that is itself merged later, and the FK's ON DELETE.
CREATE INDEX entities_merged_into_idx ON entities (merged_into) WHERE merged_into IS NOT NULL;
