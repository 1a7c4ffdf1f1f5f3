-- Linked near-duplicates: with the setting on, labeling an image proposes its label for the
-- unlabeled rest of its near-duplicate group (the labeling queue ticks them to label alongside).
ALTER TABLE "projects" ADD COLUMN "link_near_duplicates" BOOLEAN NOT NULL DEFAULT false;
