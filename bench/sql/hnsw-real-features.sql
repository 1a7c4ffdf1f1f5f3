-- HNSW storage and build parameters on real embeddings (docs/benchmarks.md): the 60 000 pool
-- items' Fashion-MNIST encoder features (128-d, unit length) of bench:round's template, 200
-- eval items' features as queries (or the synthetic 1M template's, the worst case).
-- vector(128) against halfvec(128), ef_construction 64 and 128 (m = 16): build time, index
-- size, recall@10 against exact search at ef_search 40 and 100.
-- Run on a copy of the template (it creates and drops tables r, q, truth):
--   createdb -T bench_round_fashion_mnist hnsw_real && psql -d hnsw_real -f bench/sql/hnsw-real-features.sql
-- `-v limit=N` takes the first N pool items by id (the 1M synthetic template: a sample).
\if :{?limit}
\else
  \set limit 100000000
\endif
\timing on
SET maintenance_work_mem = '1GB';
DROP TABLE IF EXISTS r, q, truth;
CREATE TABLE r AS
  SELECT f.item_id AS id, f.feature::vector(128) AS v, f.feature::halfvec(128) AS h
    FROM item_features f JOIN items i ON i.id = f.item_id WHERE i.split = 'POOL'
   ORDER BY f.item_id LIMIT :limit;
CREATE TABLE q AS
  SELECT f.item_id AS id, f.feature::vector(128) AS v
    FROM item_features f JOIN items i ON i.id = f.item_id
   WHERE i.split = 'EVAL' ORDER BY md5(f.item_id::text) LIMIT 200;
SELECT count(*) AS pool, (SELECT count(*) FROM q) AS queries FROM r;
CREATE TABLE truth AS
  SELECT q.id AS qid, t.id FROM q, LATERAL (SELECT id FROM r ORDER BY r.v <=> q.v LIMIT 10) t;

-- One index at a time (bench/sql/hnsw-one-index.sql): build, size, recall at ef_search 40
-- and 100, drop.
\set col v
\set type vector
\set ops vector_cosine_ops
\set efc 128
\ir hnsw-one-index.sql
\set efc 64
\ir hnsw-one-index.sql
\set col h
\set type halfvec
\set ops halfvec_cosine_ops
\set efc 128
\ir hnsw-one-index.sql
\set efc 64
\ir hnsw-one-index.sql

DROP TABLE r, q, truth;
