import { readFileSync, readdirSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { compiledGateway } from './compiled-executor.ts';
import type { Context } from './context.ts';
import { formatError } from './errors.ts';
import { queryCostLimit } from './query-cost.ts';
import { resolvers } from './resolvers/index.ts';

const schemaDir = new URL('../schema/', import.meta.url);

export const typeDefs = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.graphql'))
  .sort()
  .map((f) => readFileSync(new URL(f, schemaDir), 'utf8'));

/** The executable schema, shared by HTTP (Apollo) and WebSocket subscriptions (websocket.ts). */
export const schema = makeExecutableSchema<Context>({ typeDefs, resolvers });

/**
 * Limits on what one operation may ask for, so a single query cannot make the server walk
 * the whole database (items -> neighbors -> item -> neighbors ...). Armor's cost ignores list
 * sizes; queryCostLimit (query-cost.ts) multiplies them out.
 */
const armor = new ApolloArmor({
  maxDepth: { n: 8 },
  costLimit: { maxCost: 100_000 },
  maxAliases: { n: 20 },
  maxDirectives: { n: 20 },
  // Token limits go through Apollo's own parser (parseOptions), which answers a syntax error
  // with 400; armor's token plugin would turn it into a 500.
  maxTokens: { enabled: false },
  blockFieldSuggestion: { enabled: false },
});

/** Armor's validation rules, for operations that do not go through Apollo (subscriptions). */
export const armorValidationRules = armor.protect().validationRules;

/** The GraphQL server without HTTP (http.ts mounts it; tests may call executeOperation). */
export function createApolloServer(options: { production: boolean }): ApolloServer<Context> {
  const protection = armor.protect();
  return new ApolloServer<Context>({
    // The schema, with operations run through graphql-jit (compiled-executor.ts).
    gateway: compiledGateway(schema),
    introspection: !options.production,
    includeStacktraceInErrorResponses: !options.production,
    // Multipart uploads must carry a preflight-forcing header (Apollo-Require-Preflight).
    csrfPrevention: true,
    formatError: formatError(options.production),
    // No cache hints in the schema and every answer is per caller: Apollo's cache-control
    // plugin would only wrap every field's resolver (a batch of 32 classifications has ~800)
    // to send `no-store`, which http.ts sends for every answer.
    plugins: [...protection.plugins, queryCostLimit(), ApolloServerPluginCacheControlDisabled()],
    // Compact JSON: Apollo's default indents every answer (more bytes, more CPU).
    stringifyResult: (result) => JSON.stringify(result),
    validationRules: [...protection.validationRules],
    parseOptions: { maxTokens: 2_000 },
    allowBatchedHttpRequests: false,
  });
}
