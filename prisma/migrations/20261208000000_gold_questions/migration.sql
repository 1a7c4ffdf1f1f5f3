-- Gold questions: items of the GOLD split (answer known) mixed into annotators' label tasks at a
-- project-set rate. An answer is scored against the gold label and never becomes a label; each
-- person gets a gold item at most once.
ALTER TABLE "projects" ADD COLUMN "gold_rate" DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE "projects" ADD COLUMN "gold_accuracy_warning" DOUBLE PRECISION NOT NULL DEFAULT 0.8;

CREATE TABLE "gold_tasks" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "annotator_id" UUID NOT NULL,
    "round_id" UUID NOT NULL,
    "expected_class_id" UUID NOT NULL,
    "answer_class_id" UUID,
    "status" "TaskStatus" NOT NULL DEFAULT 'CLAIMED',
    "priority" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "lease_expires_at" TIMESTAMPTZ NOT NULL,
    "claimed_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "answered_at" TIMESTAMPTZ,
    CONSTRAINT "gold_tasks_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "gold_tasks_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "gold_tasks_item_id_fkey" FOREIGN KEY ("item_id")
        REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "gold_tasks_annotator_id_fkey" FOREIGN KEY ("annotator_id")
        REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "gold_tasks_round_id_fkey" FOREIGN KEY ("round_id")
        REFERENCES "rounds"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "gold_tasks_expected_class_id_fkey" FOREIGN KEY ("expected_class_id")
        REFERENCES "label_classes"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "gold_tasks_answer_class_id_fkey" FOREIGN KEY ("answer_class_id")
        REFERENCES "label_classes"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "gold_tasks_item_id_annotator_id_key" ON "gold_tasks"("item_id", "annotator_id");
CREATE INDEX "gold_tasks_project_id_annotator_id_idx" ON "gold_tasks"("project_id", "annotator_id");
