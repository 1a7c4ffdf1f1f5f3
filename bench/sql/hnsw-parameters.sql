-- HNSW parameters vs recall@10 on 20k uniform random 128-d vectors (docs/benchmarks.md).
-- psql "$DATABASE_URL" -v m=16 -v efc=128 -f bench/sql/hnsw-parameters.sql  (creates and drops tables r, q)
\timing on
DROP TABLE IF EXISTS r; DROP TABLE IF EXISTS q;
SELECT setseed(0.42);
CREATE TABLE r AS SELECT g AS id, (SELECT array_agg(random()*2-1)::vector(128) FROM generate_series(1,128) WHERE g>0) AS v FROM generate_series(1,20000) g;
CREATE TABLE q AS SELECT g AS id, (SELECT array_agg(random()*2-1)::vector(128) FROM generate_series(1,128) WHERE g>0) AS v FROM generate_series(1,50) g;
CREATE TEMP TABLE truth AS SELECT q.id qid, t.id FROM q, LATERAL (SELECT id FROM r ORDER BY r.v <=> q.v LIMIT 10) t;
SET maintenance_work_mem='512MB';
CREATE INDEX r_idx ON r USING hnsw (v vector_cosine_ops) WITH (m = :m, ef_construction = :efc);
ANALYZE r;
SET hnsw.ef_search = 100;
SELECT avg(c)/10 AS recall_100 FROM (SELECT q.id, (SELECT count(*) FROM (SELECT id FROM r ORDER BY r.v <=> q.v LIMIT 10) a WHERE a.id IN (SELECT id FROM truth WHERE qid=q.id)) c FROM q) s;
SET hnsw.ef_search = 200;
SELECT avg(c)/10 AS recall_200 FROM (SELECT q.id, (SELECT count(*) FROM (SELECT id FROM r ORDER BY r.v <=> q.v LIMIT 10) a WHERE a.id IN (SELECT id FROM truth WHERE qid=q.id)) c FROM q) s;
SET hnsw.ef_search = 400;
SELECT avg(c)/10 AS recall_400 FROM (SELECT q.id, (SELECT count(*) FROM (SELECT id FROM r ORDER BY r.v <=> q.v LIMIT 10) a WHERE a.id IN (SELECT id FROM truth WHERE qid=q.id)) c FROM q) s;
SET hnsw.ef_search = 500;
SELECT avg(c)/10 AS recall_500 FROM (SELECT q.id, (SELECT count(*) FROM (SELECT id FROM r ORDER BY r.v <=> q.v LIMIT 10) a WHERE a.id IN (SELECT id FROM truth WHERE qid=q.id)) c FROM q) s;
DROP TABLE r; DROP TABLE q;
