-- One HNSW index over r.:col (:ops, m = 16, ef_construction = :efc): build time, size, and
-- recall@10 of q against truth at ef_search 40 and 100; then dropped. Included by
-- hnsw-real-features.sql, which sets the variables and makes the tables.
\echo :type, ef_construction :efc
CREATE INDEX r_idx ON r USING hnsw (:col :ops) WITH (m = 16, ef_construction = :efc);
SELECT pg_size_pretty(pg_relation_size('r_idx')) AS size;
ANALYZE r;
SET hnsw.ef_search = 40;
SELECT avg(c) / 10 AS recall FROM (SELECT (SELECT count(*) FROM (SELECT id FROM r ORDER BY r.:col <=> CAST(q.v AS :type) LIMIT 10) a
   WHERE a.id IN (SELECT id FROM truth WHERE qid = q.id)) c FROM q) s;
SET hnsw.ef_search = 100;
SELECT avg(c) / 10 AS recall FROM (SELECT (SELECT count(*) FROM (SELECT id FROM r ORDER BY r.:col <=> CAST(q.v AS :type) LIMIT 10) a
   WHERE a.id IN (SELECT id FROM truth WHERE qid = q.id)) c FROM q) s;
DROP INDEX r_idx;
