-- A counter per project that moves whenever a label of the project is added (or removed with
-- its item). Processes that keep a project's labeled references in memory (the API's
-- classifier) compare it to know when to reload them: one indexed row read per request.
CREATE TABLE "label_versions" (
    "project_id" UUID NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "label_versions_pkey" PRIMARY KEY ("project_id")
);

ALTER TABLE "label_versions" ADD CONSTRAINT "label_versions_project_id_fkey"
    FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Once per statement (an auto-accept of thousands of labels moves it once), per project.
-- Deletes only cascade from a deleted item or project, whose row may be going too: they
-- move an existing counter and never create one.
CREATE FUNCTION "labels_bump_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "label_versions" ("project_id", "version")
    SELECT DISTINCT "project_id", 1 FROM "changed_labels"
    ON CONFLICT ("project_id") DO UPDATE SET "version" = "label_versions"."version" + 1;
  ELSE
    UPDATE "label_versions" SET "version" = "version" + 1
     WHERE "project_id" IN (SELECT DISTINCT "project_id" FROM "changed_labels");
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "labels_bump_version_insert" AFTER INSERT ON "labels"
    REFERENCING NEW TABLE AS "changed_labels"
    FOR EACH STATEMENT EXECUTE FUNCTION "labels_bump_version"();

CREATE TRIGGER "labels_bump_version_delete" AFTER DELETE ON "labels"
    REFERENCING OLD TABLE AS "changed_labels"
    FOR EACH STATEMENT EXECUTE FUNCTION "labels_bump_version"();
