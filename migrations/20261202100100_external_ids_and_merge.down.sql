DROP INDEX entities_merged_into_idx;
DROP INDEX entities_external_id_key;
ALTER TABLE entities
    DROP CONSTRAINT entities_merged_into_check,
    DROP CONSTRAINT entities_merged_into_fkey,
    DROP CONSTRAINT entities_external_id_check,
    DROP COLUMN merged_into,
    DROP COLUMN external_id;
