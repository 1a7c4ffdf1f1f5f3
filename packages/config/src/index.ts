export {
  loadConfig,
  parseConfig,
  redactUrl,
  ConfigError,
  LOCAL_POSTGRES,
  localPostgresSecrets,
  localPostgresUrl,
  type Config,
} from './config.ts';
export { repoRoot } from './paths.ts';
