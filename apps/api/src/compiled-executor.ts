import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  execute,
  GraphQLError,
  printSchema,
  type GraphQLSchema,
  type SourceLocation,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** Operations compiled and kept (the oldest is dropped past this); sightings counted. */
const MAX_COMPILED = 500;
const MAX_COUNTED = 5_000;
/** An operation is compiled on this sighting: a one-off runs once, uncompiled, and is forgotten. */
const COMPILE_AT = 2;

/**
 * Runs operations Apollo has parsed and validated through graphql-jit: an operation seen often
 * is compiled once into a function that resolves and completes its fields without walking the
 * document and schema on every request (graphql-js's execute did that for each of a
 * classification's ~40 fields). Operations seen once, or that graphql-jit cannot compile, run
 * through graphql-js. Memory is bounded by counts of operations, not by callers (the same
 * idea as Mercurius's `jit` threshold).
 */
export function compiledExecutor(schema: GraphQLSchema): GatewayExecutor {
  const compiled = new Map<string, CompiledQuery | null>();
  const sightings = new Map<string, number>();
  const remember = <V>(map: Map<string, V>, key: string, value: V, max: number) => {
    if (map.size >= max) map.delete(map.keys().next().value!);
    map.set(key, value);
  };
  return async ({ document, operationName, queryHash, context, request }) => {
    const key = `${queryHash}:${operationName ?? ''}`;
    let query = compiled.get(key);
    if (query === undefined) {
      const seen = (sightings.get(key) ?? 0) + 1;
      if (seen >= COMPILE_AT) {
        const result = compileQuery(schema, document, operationName ?? undefined);
        query = isCompiledQuery(result) ? result : null;
        remember(compiled, key, query, MAX_COMPILED);
        sightings.delete(key);
      } else remember(sightings, key, seen, MAX_COUNTED);
    }
    const result = query && (await query.query(undefined, context, request.variables ?? {}));
    // No data and only variable errors: the variables were refused before anything ran, so
    // graphql-js may run it again to say why in the form Apollo answers with 400
    // BAD_USER_INPUT (graphql-jit's errors lack the variable's node that Apollo looks for).
    // Anything else is never run twice (a mutation's effects happen once).
    const refusedVariables =
      result?.data === undefined &&
      result?.errors?.every((e) => e.message.startsWith('Variable "$')) === true;
    if (!result || refusedVariables) {
      return execute({
        schema,
        document,
        contextValue: context,
        variableValues: request.variables,
        operationName,
      });
    }
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };
}

/**
 * graphql-jit's errors pass for GraphQLError but lack what graphql-js's constructor sets (no
 * `extensions`, which Apollo's error formatting reads): rebuilt as graphql-js's (same message,
 * path, locations and original error; extensions from it, as graphql-js takes them).
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const { message, path, locations, originalError } = error as GraphQLError & {
    locations?: readonly SourceLocation[];
  };
  const jitError = new GraphQLError(message, { path, originalError });
  // Locations are the document's; graphql-jit keeps them, not the nodes GraphQLError reads them from.
  if (locations)
    Object.defineProperty(jitError, 'locations', { value: locations, enumerable: true });
  return jitError;
}

/**
 * Apollo Server 4+ takes another executor only through its gateway interface: one fixed schema
 * and the compiled executor, nothing federated.
 */
export function compiledGateway(schema: GraphQLSchema): GatewayInterface {
  return {
    async load() {
      return { executor: compiledExecutor(schema) };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async stop() {},
  };
}
