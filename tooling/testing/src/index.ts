export {
  createTestDatabase,
  createEmptyDatabase,
  dropDatabase,
  databaseUrl,
  TEMPLATE_DATABASE,
  type TestDatabase,
} from './databases.ts';
export { seedProject, type SeededProject } from './seed.ts';
