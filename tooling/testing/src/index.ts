export {
  createTestDatabase,
  createEmptyDatabase,
  dropDatabase,
  databaseUrl,
  templateDatabase,
  withAdmin,
  type TestDatabase,
} from './databases.ts';
export { seedProject, seedFashionMnist, hiddenClassOf, type SeededProject } from './seed.ts';
export { seedIndexedFashionMnist } from './indexed.ts';
