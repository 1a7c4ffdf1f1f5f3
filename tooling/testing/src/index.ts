export {
  createTestDatabase,
  createEmptyDatabase,
  dropDatabase,
  databaseUrl,
  templateDatabase,
  type TestDatabase,
} from './databases.ts';
export { seedProject, type SeededProject } from './seed.ts';
