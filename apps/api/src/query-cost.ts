import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Context } from './context.ts';

/**
 * Most field resolutions one request may ask for, lists multiplied out: a page of 500 items
 * with their history, or the 3000-point embedding map, and not much more.
 */
export const MAX_QUERY_COST = 50_000;
/** Most kNN searches (`neighbors`, `similar`) one request may ask for. */
export const MAX_KNN_CALLS = 200;

/**
 * How many elements a list field returns at most, from its size argument (or its default).
 * Lists without one are bounded by the data and counted at a generous estimate of it: a
 * project's classes and rounds, an item's label history (a label and its corrections).
 */
const LIST_SIZE: Record<string, { arg?: string; fallback: number }> = {
  items: { arg: 'first', fallback: 50 },
  edges: { fallback: 1 }, // the connection's `first` is counted on `items`
  neighbors: { arg: 'k', fallback: 10 },
  similar: { arg: 'k', fallback: 10 },
  embeddingMap: { arg: 'limit', fallback: 3000 },
  classifyBatch: { fallback: 64 }, // MAX_CLASSIFY_BATCH images
  webhookEndpoints: { fallback: 20 }, // MAX_ENDPOINTS_PER_PROJECT
  deliveries: { arg: 'first', fallback: 20 },
  labelIssues: { arg: 'first', fallback: 20 },
  nearDuplicates: { fallback: 50 },
  proposedAlongside: { fallback: 50 },
  issues: { fallback: 1 }, // counted on labelIssues
  autoLabels: { arg: 'first', fallback: 20 },
  classifyBase64: { fallback: 64 },
  points: { fallback: 1 }, // counted on embeddingMap
  precisionRecall: { fallback: 100 },
  projects: { fallback: 100 },
  classes: { fallback: 50 },
  perClass: { fallback: 50 },
  rounds: { fallback: 100 },
  tasks: { fallback: 100 },
  snapshots: { fallback: 100 },
  perAnnotator: { fallback: 50 },
  headVersions: { fallback: 50 },
  encoderVersions: { fallback: 50 },
  users: { fallback: 100 },
  apiKeys: { fallback: 50 },
  labelHistory: { fallback: 5 },
  memberships: { fallback: 10 },
  also: { fallback: 10 },
  alsoSkipped: { fallback: 10 },
  errors: { fallback: 50 },
  conflicts: { fallback: 50 },
};
const KNN_FIELDS = new Set(['neighbors', 'similar']);

function intValue(node: ValueNode | undefined, variables: Record<string, unknown>): number | null {
  if (!node) return null;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const value = variables[node.name.value];
    return typeof value === 'number' ? value : null;
  }
  return null;
}

/**
 * What an operation asks of the server before it runs: field resolutions with every list
 * multiplied by its size (`first`, `k`, `limit`), and kNN searches likewise. A depth limit
 * alone lets `items(first: 500) { neighbors(k: 100) { item { neighbors(k: 100) } } }` through:
 * one request, 50 000 searches.
 */
export function queryCost(
  selection: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  multiplicity = 1,
  seen: Set<string> = new Set(),
): { cost: number; knnCalls: number } {
  let cost = 0;
  let knnCalls = 0;
  for (const node of selection.selections) {
    if (node.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments[node.name.value];
      if (!fragment || seen.has(node.name.value)) continue;
      const inner = queryCost(
        fragment.selectionSet,
        fragments,
        variables,
        multiplicity,
        new Set([...seen, node.name.value]),
      );
      cost += inner.cost;
      knnCalls += inner.knnCalls;
      continue;
    }
    if (node.kind === Kind.INLINE_FRAGMENT) {
      const inner = queryCost(node.selectionSet, fragments, variables, multiplicity, seen);
      cost += inner.cost;
      knnCalls += inner.knnCalls;
      continue;
    }
    const name = node.name.value;
    cost += multiplicity;
    if (KNN_FIELDS.has(name)) knnCalls += multiplicity;
    if (!node.selectionSet) continue;
    const list = LIST_SIZE[name];
    const size = list
      ? (intValue(node.arguments?.find((a) => a.name.value === list.arg)?.value, variables) ??
        list.fallback)
      : 1;
    const inner = queryCost(
      node.selectionSet,
      fragments,
      variables,
      multiplicity * Math.max(1, size),
      seen,
    );
    cost += inner.cost;
    knnCalls += inner.knnCalls;
  }
  return { cost, knnCalls };
}

/** Refuses an operation over the limits before any resolver runs. */
export function queryCostLimit(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return;
          const fragments = Object.fromEntries(
            document.definitions
              .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
              .map((d) => [d.name.value, d]),
          );
          const { cost, knnCalls } = queryCost(
            operation.selectionSet,
            fragments,
            request.variables ?? {},
          );
          if (cost > MAX_QUERY_COST || knnCalls > MAX_KNN_CALLS) {
            throw new GraphQLError(
              `this query asks for ${cost} field resolutions and ${knnCalls} similarity searches; ` +
                `the limits are ${MAX_QUERY_COST} and ${MAX_KNN_CALLS} (ask for smaller pages or fewer neighbours)`,
              {
                extensions: {
                  code: 'QUERY_TOO_EXPENSIVE',
                  cost,
                  knnCalls,
                  http: { status: 400 },
                },
              },
            );
          }
        },
      };
    },
  };
}
