-- Webhooks: endpoints integrators register per project, and one delivery row per event and
-- endpoint (the delivery log), written by the emitter before a workflow sends it.
CREATE TYPE "WebhookEvent" AS ENUM ('ROUND_OPENED', 'ROUND_COMPLETED', 'CAMPAIGN_FINISHED',
  'BUDGET_LOW', 'HEAD_PROMOTED', 'HEAD_ROLLED_BACK', 'IMPORT_FINISHED', 'PING');
CREATE TYPE "DeliveryStatus" AS ENUM ('PENDING', 'DELIVERED', 'FAILED');

CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "events" "WebhookEvent"[],
    "budget_below" INTEGER,
    "secret" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_endpoints_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "webhook_endpoints_project_id_idx" ON "webhook_endpoints"("project_id");

CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "endpoint_id" UUID NOT NULL,
    "event" "WebhookEvent" NOT NULL,
    "event_key" TEXT NOT NULL,
    "event_id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "payload" JSONB NOT NULL,
    "status" "DeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "redelivery_of" UUID,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_attempt_at" TIMESTAMPTZ,
    "delivered_at" TIMESTAMPTZ,
    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id")
        REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "webhook_deliveries_endpoint_id_event_key_key"
    ON "webhook_deliveries"("endpoint_id", "event_key");
CREATE INDEX "webhook_deliveries_endpoint_id_created_at_idx"
    ON "webhook_deliveries"("endpoint_id", "created_at");
-- What the orchestration worker's maintenance pass looks for: deliveries never started.
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries"("created_at")
    WHERE "status" = 'PENDING';
