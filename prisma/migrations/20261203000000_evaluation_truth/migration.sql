-- Evaluation reads people's labels only. Hidden ground truth belongs to simulation projects
-- (the Fashion-MNIST demo, benchmarks), which are marked; rounds ask for a random sample of
-- eval items, counted in the budget, until the project has eval_label_target of them labeled.
ALTER TABLE "projects" ADD COLUMN "simulation" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "projects" ADD COLUMN "eval_label_target" INTEGER NOT NULL DEFAULT 200;
ALTER TABLE "rounds" ADD COLUMN "eval_asked" INTEGER NOT NULL DEFAULT 0;
-- Projects that already hold hidden truth were made by the simulation importers.
UPDATE "projects" p SET "simulation" = true
 WHERE EXISTS (SELECT 1 FROM "hidden_truth" h JOIN "items" i ON i.id = h.item_id
                WHERE i.project_id = p.id);
