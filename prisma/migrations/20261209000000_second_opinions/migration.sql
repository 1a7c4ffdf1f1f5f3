-- Disagreements and second opinions: a label another person's latest label of the same image
-- contradicts becomes a label issue of its own kind; a reviewer may send an issue's image to
-- another annotator, as a task the people whose labels are in question cannot claim.
CREATE TYPE "LabelIssueKind" AS ENUM ('NEIGHBOURS', 'DISAGREEMENT');
ALTER TYPE "LabelIssueStatus" ADD VALUE 'SENT';
ALTER TABLE "label_issues" ADD COLUMN "kind" "LabelIssueKind" NOT NULL DEFAULT 'NEIGHBOURS';
ALTER TABLE "label_tasks" ADD COLUMN "exclude_annotator_ids" UUID[] NOT NULL DEFAULT ARRAY[]::UUID[];
