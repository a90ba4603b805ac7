-- Merges are no longer recorded (nor undoable); the grants go with the tables.
DROP INDEX changes_resource_id_version_idx;
DROP TABLE merge_relationships;
DROP TABLE merge_entities;
DROP TABLE merges;
