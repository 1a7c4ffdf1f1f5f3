-- A head's full-pool HNSW index is built after promotion, off the round's critical path, while
-- the previous head's index keeps answering neighbour searches. So the parent index that
-- made every attached partition carry one goes; each partition gets its own index when its
-- head is promoted (packages/db/src/repositories/vector-sets.ts, buildSearchIndex).

-- The head whose vector set and index answer similar-image and neighbour searches: the active
-- head once its index is built, until then the one before it.
ALTER TABLE "projects" ADD COLUMN "search_head_version_id" UUID;
ALTER TABLE "projects" ADD CONSTRAINT "projects_search_head_version_id_fkey"
    FOREIGN KEY ("search_head_version_id") REFERENCES "head_versions"("id")
    ON DELETE SET NULL ON UPDATE CASCADE;
UPDATE "projects" SET "search_head_version_id" = "active_head_version_id";

-- Dropping a partitioned index drops its partitions' indexes with it; detached first, each
-- partition keeps its own (built) index, and attaching it again needs no index at all.
DO $$
DECLARE
  part record;
  parts text[][] := ARRAY[]::text[][];
BEGIN
  FOR part IN
    SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = '"item_vectors"'::regclass
  LOOP
    EXECUTE format('ALTER TABLE "item_vectors" DETACH PARTITION %I', part.relname);
    parts := parts || ARRAY[[part.relname, part.bound]];
  END LOOP;
  DROP INDEX "item_vectors_embedding_hnsw_idx";
  FOR i IN 1 .. coalesce(array_length(parts, 1), 0) LOOP
    EXECUTE format('ALTER TABLE "item_vectors" ATTACH PARTITION %I %s', parts[i][1], parts[i][2]);
  END LOOP;
END $$;
