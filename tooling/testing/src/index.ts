export {
  createTestDatabase,
  createEmptyDatabase,
  createNamedDatabase,
  dropDatabase,
  databaseUrl,
  templateDatabase,
  copyDatabase,
  databaseExists,
  renameDatabase,
  type TestDatabase,
} from './databases.ts';
export { seedProject, seedFashionMnist, hiddenClassOf, type SeededProject } from './seed.ts';
export { createProjectionHead, seedIndexedFashionMnist } from './indexed.ts';
export { startPrivateServices, type PrivateServices } from './private-services.ts';
export { grayPng, pngBomb } from './png-files.ts';
export { freePort, startProcess } from './processes.ts';
export { signIn } from './sign-in.ts';
