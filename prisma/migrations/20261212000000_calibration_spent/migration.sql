-- Auto-accept calibrates only on eval items like the pool items still unlabeled: those an
-- earlier accepting round would have accepted are set aside here.
CREATE TABLE "calibration_spent" (
    "item_id" UUID NOT NULL,
    "round_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "calibration_spent_pkey" PRIMARY KEY ("item_id")
);

CREATE INDEX "calibration_spent_round_id_idx" ON "calibration_spent"("round_id");

ALTER TABLE "calibration_spent" ADD CONSTRAINT "calibration_spent_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "calibration_spent" ADD CONSTRAINT "calibration_spent_round_id_fkey" FOREIGN KEY ("round_id") REFERENCES "rounds"("id") ON DELETE CASCADE ON UPDATE CASCADE;
