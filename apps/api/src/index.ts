import { startStandaloneServer } from '@apollo/server/standalone';
import { ConfigError, loadConfig } from '@beanstalk/config';
import { createPool, createPrisma } from '@beanstalk/db';
import { createApolloServer } from './server.ts';

async function main() {
  const config = loadConfig();
  const prisma = createPrisma(config.postgres.databaseUrl);
  const pool = createPool(config.postgres.databaseUrl);
  const server = createApolloServer({ production: config.environment === 'production' });
  const { url } = await startStandaloneServer(server, {
    listen: { port: config.api.port, host: '127.0.0.1' },
    context: async () => ({ config, prisma, pool }),
  });
  console.log(`api: GraphQL at ${url} (any path; the web app uses ${config.api.url})`);
  const stop = async () => {
    await server.stop();
    await Promise.all([prisma.$disconnect(), pool.end()]);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
