-- Initial schema. Tables, enums, keys and indexes follow prisma/schema.prisma in the form
-- `prisma migrate diff` emits; the parts Prisma cannot express (vector columns' index,
-- partitioning, label triggers) are at the end and explained there.

CREATE EXTENSION IF NOT EXISTS "vector";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'MANAGER', 'ANNOTATOR', 'INTEGRATOR');
CREATE TYPE "Split" AS ENUM ('POOL', 'EVAL', 'GOLD');
CREATE TYPE "LabelSource" AS ENUM ('HUMAN', 'AUTO', 'GOLD', 'IMPORT');
CREATE TYPE "ModelStatus" AS ENUM ('CANDIDATE', 'ACTIVE', 'RETIRED');
CREATE TYPE "HeadKind" AS ENUM ('LINEAR', 'MLP');
CREATE TYPE "TaskStatus" AS ENUM ('OPEN', 'CLAIMED', 'DONE', 'SKIPPED', 'EXPIRED');
CREATE TYPE "RoundStatus" AS ENUM ('PENDING', 'SCORING', 'SELECTING', 'LABELING', 'TRAINING', 'REINDEXING', 'EVALUATING', 'COMPLETED', 'CANCELLED', 'FAILED');
CREATE TYPE "CampaignStatus" AS ENUM ('RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED');
CREATE TYPE "ImportStatus" AS ENUM ('RUNNING', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "password_hash" TEXT,
    "is_admin" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "memberships" (
    "user_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "role" "Role" NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "memberships_pkey" PRIMARY KEY ("user_id","project_id")
);

CREATE TABLE "sessions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "api_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "role" "Role" NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),
    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "projects" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "k" INTEGER NOT NULL DEFAULT 10,
    "round_size" INTEGER NOT NULL DEFAULT 100,
    "auto_accept_precision_target" DOUBLE PRECISION NOT NULL DEFAULT 0.98,
    "auto_accept_enabled" BOOLEAN NOT NULL DEFAULT true,
    "target_macro_f1" DOUBLE PRECISION,
    "promotion_tolerance" DOUBLE PRECISION NOT NULL DEFAULT 0.005,
    "task_lease_seconds" INTEGER NOT NULL DEFAULT 300,
    "encoder_version_id" UUID,
    "active_head_version_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,
    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "label_classes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "colour" TEXT NOT NULL DEFAULT '#888888',
    "hotkey" TEXT,
    "is_normal" BOOLEAN NOT NULL DEFAULT true,
    "retired_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "label_classes_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "items" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "content_hash" TEXT NOT NULL,
    "blob_key" TEXT NOT NULL,
    "mime_type" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "channels" INTEGER NOT NULL,
    "split" "Split" NOT NULL DEFAULT 'POOL',
    "source_ref" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "items_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "hidden_truth" (
    "item_id" UUID NOT NULL,
    "label_class_id" UUID NOT NULL,
    CONSTRAINT "hidden_truth_pkey" PRIMARY KEY ("item_id")
);

CREATE TABLE "encoder_versions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "onnx_blob_key" TEXT NOT NULL,
    "sidecar" JSONB NOT NULL,
    "input_width" INTEGER NOT NULL,
    "input_height" INTEGER NOT NULL,
    "channels" INTEGER NOT NULL,
    "dims" INTEGER NOT NULL,
    "metrics" JSONB NOT NULL DEFAULT '{}',
    "status" "ModelStatus" NOT NULL DEFAULT 'CANDIDATE',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "encoder_versions_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "head_versions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "encoder_version_id" UUID NOT NULL,
    "round_id" UUID,
    "kind" "HeadKind" NOT NULL,
    "input_dims" INTEGER NOT NULL,
    "output_dims" INTEGER NOT NULL,
    "weights" BYTEA NOT NULL,
    "config" JSONB NOT NULL DEFAULT '{}',
    "metrics" JSONB NOT NULL DEFAULT '{}',
    "status" "ModelStatus" NOT NULL DEFAULT 'CANDIDATE',
    "note" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "promoted_at" TIMESTAMPTZ(6),
    "retired_at" TIMESTAMPTZ(6),
    CONSTRAINT "head_versions_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "item_features" (
    "encoder_version_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "feature" vector NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "item_features_pkey" PRIMARY KEY ("encoder_version_id","item_id")
);

-- Partitioned by head version: see the end of this file.
CREATE TABLE "item_vectors" (
    "head_version_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "split" "Split" NOT NULL,
    "label_class_id" UUID,
    "label_source" "LabelSource",
    "embedding" vector(128) NOT NULL,
    CONSTRAINT "item_vectors_pkey" PRIMARY KEY ("head_version_id","item_id")
) PARTITION BY LIST ("head_version_id");

CREATE TABLE "labels" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "label_class_id" UUID,
    "source" "LabelSource" NOT NULL,
    "annotator_id" UUID,
    "round_id" UUID,
    "task_id" UUID,
    "confidence" DOUBLE PRECISION,
    "reason" TEXT,
    "supersedes_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "labels_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "label_tasks" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "round_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "status" "TaskStatus" NOT NULL DEFAULT 'OPEN',
    "priority" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "assignee_id" UUID,
    "lease_expires_at" TIMESTAMPTZ(6),
    "claimed_at" TIMESTAMPTZ(6),
    "completed_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "label_tasks_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "predictions" (
    "head_version_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "round_id" UUID,
    "label_class_id" UUID NOT NULL,
    "confidence" DOUBLE PRECISION NOT NULL,
    "margin" DOUBLE PRECISION NOT NULL,
    "entropy" DOUBLE PRECISION NOT NULL,
    "anomaly_score" DOUBLE PRECISION NOT NULL,
    "probabilities" DOUBLE PRECISION[],
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "predictions_pkey" PRIMARY KEY ("head_version_id","item_id")
);

CREATE TABLE "campaigns" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "status" "CampaignStatus" NOT NULL DEFAULT 'RUNNING',
    "stop_reason" TEXT,
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(6),
    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "rounds" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "campaign_id" UUID,
    "number" INTEGER NOT NULL,
    "status" "RoundStatus" NOT NULL DEFAULT 'PENDING',
    "workflow_id" TEXT,
    "budget_asked" INTEGER NOT NULL DEFAULT 0,
    "labels_received" INTEGER NOT NULL DEFAULT 0,
    "auto_accepted" INTEGER NOT NULL DEFAULT 0,
    "auto_threshold" DOUBLE PRECISION,
    "metrics" JSONB NOT NULL DEFAULT '{}',
    "note" TEXT,
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(6),
    CONSTRAINT "rounds_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "budget_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "amount" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "user_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "budget_events_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "metric_snapshots" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "round_id" UUID,
    "head_version_id" UUID,
    "split" "Split" NOT NULL DEFAULT 'EVAL',
    "human_labels" INTEGER NOT NULL,
    "macro_f1" DOUBLE PRECISION NOT NULL,
    "micro_f1" DOUBLE PRECISION NOT NULL,
    "accuracy" DOUBLE PRECISION NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "metric_snapshots_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "import_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "status" "ImportStatus" NOT NULL DEFAULT 'RUNNING',
    "total" INTEGER NOT NULL DEFAULT 0,
    "imported" INTEGER NOT NULL DEFAULT 0,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "errors" JSONB NOT NULL DEFAULT '[]',
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(6),
    CONSTRAINT "import_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions"("token_hash");
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");
CREATE INDEX "api_keys_project_id_idx" ON "api_keys"("project_id");
CREATE UNIQUE INDEX "projects_slug_key" ON "projects"("slug");
CREATE UNIQUE INDEX "projects_active_head_version_id_key" ON "projects"("active_head_version_id");
CREATE UNIQUE INDEX "label_classes_project_id_name_key" ON "label_classes"("project_id", "name");
CREATE UNIQUE INDEX "label_classes_project_id_position_key" ON "label_classes"("project_id", "position");
CREATE INDEX "items_project_id_split_idx" ON "items"("project_id", "split");
CREATE INDEX "items_project_id_created_at_idx" ON "items"("project_id", "created_at");
CREATE UNIQUE INDEX "items_project_id_content_hash_key" ON "items"("project_id", "content_hash");
CREATE UNIQUE INDEX "encoder_versions_name_key" ON "encoder_versions"("name");
CREATE UNIQUE INDEX "head_versions_round_id_key" ON "head_versions"("round_id");
CREATE INDEX "head_versions_project_id_status_idx" ON "head_versions"("project_id", "status");
CREATE INDEX "item_vectors_item_id_idx" ON "item_vectors"("item_id");
CREATE UNIQUE INDEX "labels_task_id_key" ON "labels"("task_id");
CREATE UNIQUE INDEX "labels_supersedes_id_key" ON "labels"("supersedes_id");
CREATE INDEX "labels_item_id_created_at_idx" ON "labels"("item_id", "created_at");
CREATE INDEX "labels_project_id_source_idx" ON "labels"("project_id", "source");
CREATE INDEX "labels_round_id_idx" ON "labels"("round_id");
CREATE INDEX "label_tasks_project_id_status_priority_idx" ON "label_tasks"("project_id", "status", "priority");
CREATE UNIQUE INDEX "label_tasks_round_id_item_id_key" ON "label_tasks"("round_id", "item_id");
CREATE INDEX "predictions_head_version_id_margin_idx" ON "predictions"("head_version_id", "margin");
CREATE INDEX "predictions_head_version_id_anomaly_score_idx" ON "predictions"("head_version_id", "anomaly_score");
CREATE UNIQUE INDEX "campaigns_workflow_id_key" ON "campaigns"("workflow_id");
CREATE INDEX "campaigns_project_id_status_idx" ON "campaigns"("project_id", "status");
CREATE UNIQUE INDEX "rounds_workflow_id_key" ON "rounds"("workflow_id");
CREATE UNIQUE INDEX "rounds_project_id_number_key" ON "rounds"("project_id", "number");
CREATE INDEX "budget_events_project_id_idx" ON "budget_events"("project_id");
CREATE INDEX "metric_snapshots_project_id_created_at_idx" ON "metric_snapshots"("project_id", "created_at");
CREATE INDEX "import_runs_project_id_idx" ON "import_runs"("project_id");

-- AddForeignKey
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "projects" ADD CONSTRAINT "projects_encoder_version_id_fkey" FOREIGN KEY ("encoder_version_id") REFERENCES "encoder_versions"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "projects" ADD CONSTRAINT "projects_active_head_version_id_fkey" FOREIGN KEY ("active_head_version_id") REFERENCES "head_versions"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "label_classes" ADD CONSTRAINT "label_classes_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "items" ADD CONSTRAINT "items_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "hidden_truth" ADD CONSTRAINT "hidden_truth_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "hidden_truth" ADD CONSTRAINT "hidden_truth_label_class_id_fkey" FOREIGN KEY ("label_class_id") REFERENCES "label_classes"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "head_versions" ADD CONSTRAINT "head_versions_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "head_versions" ADD CONSTRAINT "head_versions_encoder_version_id_fkey" FOREIGN KEY ("encoder_version_id") REFERENCES "encoder_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "head_versions" ADD CONSTRAINT "head_versions_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "rounds"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "item_features" ADD CONSTRAINT "item_features_encoder_version_id_fkey" FOREIGN KEY ("encoder_version_id") REFERENCES "encoder_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "item_features" ADD CONSTRAINT "item_features_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "item_vectors" ADD CONSTRAINT "item_vectors_head_version_id_fkey" FOREIGN KEY ("head_version_id") REFERENCES "head_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "item_vectors" ADD CONSTRAINT "item_vectors_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "labels" ADD CONSTRAINT "labels_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "labels" ADD CONSTRAINT "labels_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "labels" ADD CONSTRAINT "labels_label_class_id_fkey" FOREIGN KEY ("label_class_id") REFERENCES "label_classes"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "labels" ADD CONSTRAINT "labels_annotator_id_fkey" FOREIGN KEY ("annotator_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "labels" ADD CONSTRAINT "labels_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "rounds"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "labels" ADD CONSTRAINT "labels_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "label_tasks"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "labels" ADD CONSTRAINT "labels_supersedes_id_fkey" FOREIGN KEY ("supersedes_id") REFERENCES "labels"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "label_tasks" ADD CONSTRAINT "label_tasks_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "label_tasks" ADD CONSTRAINT "label_tasks_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "rounds"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "label_tasks" ADD CONSTRAINT "label_tasks_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "label_tasks" ADD CONSTRAINT "label_tasks_assignee_id_fkey" FOREIGN KEY ("assignee_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_head_version_id_fkey" FOREIGN KEY ("head_version_id") REFERENCES "head_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_label_class_id_fkey" FOREIGN KEY ("label_class_id") REFERENCES "label_classes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "rounds"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "rounds" ADD CONSTRAINT "rounds_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "rounds" ADD CONSTRAINT "rounds_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "budget_events" ADD CONSTRAINT "budget_events_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "budget_events" ADD CONSTRAINT "budget_events_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "metric_snapshots" ADD CONSTRAINT "metric_snapshots_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "metric_snapshots" ADD CONSTRAINT "metric_snapshots_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "rounds"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "metric_snapshots" ADD CONSTRAINT "metric_snapshots_head_version_id_fkey" FOREIGN KEY ("head_version_id") REFERENCES "head_versions"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "import_runs" ADD CONSTRAINT "import_runs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------
-- Beyond Prisma's vocabulary
-- ---------------------------------------------------------------------------------------

-- Each head version's vectors are one list partition of item_vectors with its own HNSW
-- index (cosine). A reindex builds a new partition off-line, attaches it (the matching
-- index is adopted, not rebuilt) and then flips projects.active_head_version_id, so search
-- keeps answering from the old partition until the flip. Partition definitions must keep
-- m/ef_construction equal to this parent index (packages/db/src/vectors.ts).
CREATE INDEX "item_vectors_embedding_hnsw_idx" ON "item_vectors"
    USING hnsw ("embedding" vector_cosine_ops) WITH (m = 16, ef_construction = 128);

-- Label history: the first label of an item supersedes nothing, every later one supersedes
-- exactly the current one (supersedes_id is unique), so two concurrent relabels of the same
-- label cannot both land.
CREATE UNIQUE INDEX "labels_item_root_key" ON "labels"("item_id") WHERE "supersedes_id" IS NULL;

CREATE VIEW "current_labels" AS
SELECT l.* FROM "labels" l
WHERE NOT EXISTS (SELECT 1 FROM "labels" n WHERE n."supersedes_id" = l."id");

CREATE FUNCTION "labels_refuse_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Deletes cascading from a deleted item or project arrive one trigger level deeper.
  IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'labels are append-only: % of label % refused; insert a new label that supersedes it', TG_OP, OLD."id"
    USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER "labels_append_only" BEFORE UPDATE OR DELETE ON "labels"
    FOR EACH ROW EXECUTE FUNCTION "labels_refuse_changes"();

CREATE FUNCTION "labels_check_supersedes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."supersedes_id" IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM "labels" p WHERE p."id" = NEW."supersedes_id" AND p."item_id" = NEW."item_id"
  ) THEN
    RAISE EXCEPTION 'label % supersedes %, which is not a label of the same item', NEW."id", NEW."supersedes_id"
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "labels_supersedes_same_item" BEFORE INSERT ON "labels"
    FOR EACH ROW EXECUTE FUNCTION "labels_check_supersedes"();

-- Keep the label copy on item_vectors current, so filtered kNN needs no join.
CREATE FUNCTION "labels_sync_vectors"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "item_vectors"
     SET "label_class_id" = NEW."label_class_id",
         "label_source" = CASE WHEN NEW."label_class_id" IS NULL THEN NULL ELSE NEW."source" END
   WHERE "item_id" = NEW."item_id";
  RETURN NULL;
END $$;

CREATE TRIGGER "labels_sync_item_vectors" AFTER INSERT ON "labels"
    FOR EACH ROW EXECUTE FUNCTION "labels_sync_vectors"();
