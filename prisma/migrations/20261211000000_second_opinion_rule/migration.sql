-- Second opinions by rule: with the setting on, each round first asks someone else about images
-- whose labels from two people disagree.
ALTER TABLE "projects" ADD COLUMN "second_opinions" BOOLEAN NOT NULL DEFAULT false;
