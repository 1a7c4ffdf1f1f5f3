-- How rounds choose what to ask, as a project setting, and what each round used.
CREATE TYPE "SelectionStrategy" AS ENUM ('TYPICLUST_MARGIN', 'TYPICLUST', 'MARGIN', 'MARGIN_DIVERSITY', 'LEAST_CONFIDENCE', 'ENTROPY', 'RANDOM');

ALTER TABLE "projects" ADD COLUMN "selection_strategy" "SelectionStrategy" NOT NULL DEFAULT 'TYPICLUST_MARGIN';

ALTER TABLE "rounds" ADD COLUMN "selection" "SelectionStrategy";
