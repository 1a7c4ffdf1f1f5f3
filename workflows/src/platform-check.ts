import { proxyActivities } from '@temporalio/workflow';
import type { OrchestrationActivities } from '@beanstalk/activities';

const { countProjects, describeServices } = proxyActivities<OrchestrationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export interface PlatformCheckResult {
  projects: number;
  services: string;
  checkedBy: string;
}

/**
 * The smallest workflow that exercises the whole chain: Temporal schedules it, a worker
 * runs an activity that reads Postgres, and the result comes back to the caller.
 */
export async function platformCheck(checkedBy: string): Promise<PlatformCheckResult> {
  const projects = await countProjects();
  const services = await describeServices();
  return { projects, services, checkedBy };
}
