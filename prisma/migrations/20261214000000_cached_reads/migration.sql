-- The rows every classification reads (the caller's API key, the project, its classes and its
-- label version) are kept in memory by the API and dropped when these triggers announce a
-- change to them, on a channel of their own. A payload only names the key or the project.
CREATE FUNCTION "notify_cached_change"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_TABLE_NAME = 'api_keys' THEN
    PERFORM pg_notify('beanstalk_cached_reads', json_build_object('kind', 'apiKey',
      'id', r.id)::text);
  ELSIF TG_TABLE_NAME = 'projects' THEN
    PERFORM pg_notify('beanstalk_cached_reads', json_build_object('kind', 'project',
      'id', r.id)::text);
  ELSE
    -- label_classes, label_versions
    PERFORM pg_notify('beanstalk_cached_reads', json_build_object('kind', 'project',
      'id', r.project_id)::text);
  END IF;
  RETURN NULL;
END $$;

-- A new key or project is never in the cache before it exists (unknown ones are not cached).
CREATE TRIGGER "api_keys_cached_reads_update" AFTER UPDATE ON "api_keys"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "notify_cached_change"();
CREATE TRIGGER "api_keys_cached_reads_delete" AFTER DELETE ON "api_keys"
  FOR EACH ROW EXECUTE FUNCTION "notify_cached_change"();
CREATE TRIGGER "projects_cached_reads_update" AFTER UPDATE ON "projects"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "notify_cached_change"();
CREATE TRIGGER "projects_cached_reads_delete" AFTER DELETE ON "projects"
  FOR EACH ROW EXECUTE FUNCTION "notify_cached_change"();
CREATE TRIGGER "label_classes_cached_reads" AFTER INSERT OR UPDATE OR DELETE ON "label_classes"
  FOR EACH ROW EXECUTE FUNCTION "notify_cached_change"();
-- Moved once per statement that adds or removes labels (migration 20261130000000_label_versions).
CREATE TRIGGER "label_versions_cached_reads" AFTER INSERT OR UPDATE ON "label_versions"
  FOR EACH ROW EXECUTE FUNCTION "notify_cached_change"();
