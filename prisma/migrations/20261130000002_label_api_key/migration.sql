-- Who acted, when it was an integrator's API key rather than a person: the key is kept on the
-- label it wrote. Keys are revoked, never deleted (a project's deletion removes its labels
-- and keys together), so the reference needs no ON DELETE action.
ALTER TABLE "labels" ADD COLUMN "api_key_id" UUID;
ALTER TABLE "labels" ADD CONSTRAINT "labels_api_key_id_fkey"
    FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON UPDATE CASCADE;
CREATE INDEX "labels_api_key_id_idx" ON "labels"("api_key_id") WHERE "api_key_id" IS NOT NULL;
