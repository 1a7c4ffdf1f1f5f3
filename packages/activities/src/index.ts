export { createPlatformActivities, type PlatformActivities } from './platform.ts';
