-- Auto-accept's evidence per round: the 95% lower bound of the human labels' leave-one-out
-- precision above the threshold (null when the round accepted nothing).
ALTER TABLE "rounds" ADD COLUMN "auto_precision_bound" DOUBLE PRECISION;
