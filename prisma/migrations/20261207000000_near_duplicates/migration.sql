-- Near-duplicates: each item gets a small signature of its picture (packages/ml signature.ts),
-- kept beside the item; an item whose signature lies within a small distance of an earlier
-- item's names that item. The check after each ingest marks the items it has looked at. A
-- project may keep near-duplicates out of label selection.
CREATE TABLE "item_signatures" (
    "item_id" UUID NOT NULL,
    "signature" vector(256) NOT NULL,
    CONSTRAINT "item_signatures_pkey" PRIMARY KEY ("item_id"),
    CONSTRAINT "item_signatures_item_id_fkey" FOREIGN KEY ("item_id")
        REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
ALTER TABLE "items" ADD COLUMN "near_duplicate_of" UUID;
ALTER TABLE "items" ADD COLUMN "duplicates_checked" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "items" ADD CONSTRAINT "items_near_duplicate_of_fkey" FOREIGN KEY ("near_duplicate_of")
    REFERENCES "items"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "items_near_duplicate_of_idx" ON "items"("near_duplicate_of");
ALTER TABLE "projects" ADD COLUMN "skip_near_duplicates" BOOLEAN NOT NULL DEFAULT false;
