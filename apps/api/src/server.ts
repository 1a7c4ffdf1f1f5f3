import { readFileSync, readdirSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import type { Context } from './context.ts';
import { resolvers } from './resolvers/index.ts';

const schemaDir = new URL('../schema/', import.meta.url);

export const typeDefs = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.graphql'))
  .sort()
  .map((f) => readFileSync(new URL(f, schemaDir), 'utf8'));

/** The GraphQL server without HTTP, so tests can call executeOperation directly. */
export function createApolloServer(options: { production: boolean }): ApolloServer<Context> {
  return new ApolloServer<Context>({
    typeDefs,
    resolvers,
    introspection: !options.production,
    includeStacktraceInErrorResponses: !options.production,
  });
}
