export { loadConfig, parseConfig, ConfigError, type Config } from './config.ts';
export { repoRoot } from './paths.ts';
