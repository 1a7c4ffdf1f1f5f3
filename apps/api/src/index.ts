import { ConfigError, loadConfig } from '@beanstalk/config';
import { createHttpApp } from './http.ts';
import { createServices } from './services.ts';

async function main() {
  const config = loadConfig();
  const services = createServices(config);
  const { server, apollo, subscribe } = await createHttpApp(services);
  server.listen(config.api.port, '127.0.0.1', () => {
    console.log(`api: GraphQL at http://127.0.0.1:${config.api.port}/graphql (subscriptions: ws)`);
  });
  const subscriptions = subscribe();
  const stop = async () => {
    await subscriptions.close();
    server.close();
    await apollo.stop();
    await services.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
