-- Label issues: labels that look wrong to their neighbours (confident learning over
-- leave-one-out kNN votes in backbone space), found after each round and reviewed by people.
-- One row per checked label: a label flagged once stays one issue, whatever later checks say.
CREATE TYPE "LabelIssueStatus" AS ENUM ('OPEN', 'KEPT', 'RELABELED', 'CLEARED');

CREATE TABLE "label_issues" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "label_id" UUID NOT NULL,
    "round_id" UUID,
    "suggested_class_id" UUID NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "self_confidence" DOUBLE PRECISION NOT NULL,
    "status" "LabelIssueStatus" NOT NULL DEFAULT 'OPEN',
    "reviewed_by_id" UUID,
    "review_label_id" UUID,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reviewed_at" TIMESTAMPTZ,
    CONSTRAINT "label_issues_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "label_issues_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "label_issues_item_id_fkey" FOREIGN KEY ("item_id")
        REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "label_issues_label_id_fkey" FOREIGN KEY ("label_id")
        REFERENCES "labels"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "label_issues_round_id_fkey" FOREIGN KEY ("round_id")
        REFERENCES "rounds"("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "label_issues_suggested_class_id_fkey" FOREIGN KEY ("suggested_class_id")
        REFERENCES "label_classes"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "label_issues_reviewed_by_id_fkey" FOREIGN KEY ("reviewed_by_id")
        REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "label_issues_review_label_id_fkey" FOREIGN KEY ("review_label_id")
        REFERENCES "labels"("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "label_issues_label_id_key" ON "label_issues"("label_id");
-- The review queue: a project's open issues, most suspect first.
CREATE INDEX "label_issues_project_id_status_score_idx"
    ON "label_issues"("project_id", "status", "score" DESC);
