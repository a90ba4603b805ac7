DROP INDEX IF EXISTS changes_kind_txid_seq_idx;
DROP INDEX IF EXISTS relationships_type_id_idx;
DROP INDEX IF EXISTS relationships_confidence_idx;
DROP INDEX IF EXISTS relationships_target_type_idx;
DROP INDEX IF EXISTS relationships_source_type_idx;
