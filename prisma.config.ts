import { defineConfig } from 'prisma/config';
import { loadConfig } from '@beanstalk/config';

// The CLI reads the same validated configuration as the apps. `prisma generate` needs no
// database; `prisma migrate deploy` on a connected machine agrees with our own runner.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: loadConfig().postgres.databaseUrl },
});
