-- The project an encoder was trained for (null for encoders registered from a folder, which any
-- project may use). A project's deletion keeps the encoder row: other projects may use it.
ALTER TABLE "encoder_versions" ADD COLUMN "project_id" UUID;
ALTER TABLE "encoder_versions" ADD CONSTRAINT "encoder_versions_project_id_fkey"
    FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "encoder_versions_project_id_idx" ON "encoder_versions"("project_id");
