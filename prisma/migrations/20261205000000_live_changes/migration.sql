-- Live changes for GraphQL subscriptions: the tables behind round progress, campaign state and
-- the budget announce their changes on one channel, in commit order. A payload only names what
-- changed (and a round's or campaign's new status, so no phase is skipped when they follow each
-- other quickly); listeners read the rest. Identical payloads in one transaction are folded by
-- Postgres, so a bulk label import announces the budget once.
CREATE FUNCTION "notify_live_change"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_TABLE_NAME = 'rounds' THEN
    PERFORM pg_notify('beanstalk_changes', json_build_object('kind', 'round',
      'projectId', r.project_id, 'id', r.id, 'status', r.status)::text);
  ELSIF TG_TABLE_NAME = 'campaigns' THEN
    PERFORM pg_notify('beanstalk_changes', json_build_object('kind', 'campaign',
      'projectId', r.project_id, 'id', r.id, 'status', r.status)::text);
  ELSIF TG_TABLE_NAME = 'label_tasks' THEN
    -- A task opened, claimed, done or expired: the round's counts and the budget's reserve.
    PERFORM pg_notify('beanstalk_changes', json_build_object('kind', 'round',
      'projectId', r.project_id, 'id', r.round_id)::text);
    PERFORM pg_notify('beanstalk_changes', json_build_object('kind', 'budget',
      'projectId', r.project_id)::text);
  ELSE
    -- labels, budget_events
    PERFORM pg_notify('beanstalk_changes', json_build_object('kind', 'budget',
      'projectId', r.project_id)::text);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "rounds_live_insert" AFTER INSERT ON "rounds"
  FOR EACH ROW EXECUTE FUNCTION "notify_live_change"();
CREATE TRIGGER "rounds_live_update" AFTER UPDATE ON "rounds"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "notify_live_change"();

CREATE TRIGGER "campaigns_live_insert" AFTER INSERT ON "campaigns"
  FOR EACH ROW EXECUTE FUNCTION "notify_live_change"();
CREATE TRIGGER "campaigns_live_update" AFTER UPDATE ON "campaigns"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "notify_live_change"();

-- Lease renewals do not change a task's status and stay quiet.
CREATE TRIGGER "label_tasks_live_insert" AFTER INSERT ON "label_tasks"
  FOR EACH ROW EXECUTE FUNCTION "notify_live_change"();
CREATE TRIGGER "label_tasks_live_update" AFTER UPDATE ON "label_tasks"
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION "notify_live_change"();

-- Only human labels count against the budget.
CREATE TRIGGER "labels_live_insert" AFTER INSERT ON "labels"
  FOR EACH ROW WHEN (NEW.source = 'HUMAN') EXECUTE FUNCTION "notify_live_change"();
CREATE TRIGGER "labels_live_delete" AFTER DELETE ON "labels"
  FOR EACH ROW WHEN (OLD.source = 'HUMAN') EXECUTE FUNCTION "notify_live_change"();

CREATE TRIGGER "budget_events_live_insert" AFTER INSERT ON "budget_events"
  FOR EACH ROW EXECUTE FUNCTION "notify_live_change"();
