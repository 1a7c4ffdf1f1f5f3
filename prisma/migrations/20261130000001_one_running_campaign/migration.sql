-- At most one running campaign per project, decided by the database: two starts at once
-- cannot both register one.
CREATE UNIQUE INDEX "campaigns_one_running_per_project" ON "campaigns"("project_id")
    WHERE "status" = 'RUNNING';
