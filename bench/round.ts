// Round latency: wall time per phase of an active-learning round on
// all of Fashion-MNIST (60k pool + 10k eval), or on a synthetic project of --items items, run
// by the real workflows on the real Temporal server, with the orchestration and gpu workers as
// separate processes (peak RSS of each). The human wait is excluded: a simulated labeler
// answers tasks as they open. After each round, the background build of its head's search
// index: how long until searches move to it, searching all along, and whether any answer
// mixed two heads' vectors (distances checked against each set afterwards).
//
//   npm run bench:round [-- --round-size 100] [-- --items 1000000] [-- --realistic]
//
// --realistic: the realistic set instead of the synthetic one (Fashion-MNIST grown to --items,
// default 1M, with augmented copies embedded by the real encoder; bench/lib/augmented.ts).
//
// The first run of a kind builds a template database (Fashion-MNIST imported and embedded,
// several minutes; or synthetic items and features); every run then works on a fresh copy.
// bench/results/round.json keeps the latest run of each size.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cosineDistance } from '@beanstalk/ml';
import { startRound } from '@beanstalk/orchestration';
import { roundProgress, SEARCH_INDEX_PREFIX, type RoundProgress } from '@beanstalk/workflows';
import { dropDatabase } from '../tooling/testing/src/index.ts';
import { writeSvgChart } from './lib/chart.ts';
import { log } from './lib/fashion-mnist.ts';
import {
  benchTemporal,
  buildFashionMnist,
  ensureTemplate,
  peakRssMiB,
  simulatedLabeler,
  spawnWorker,
  workingCopy,
} from './lib/platform.ts';
import { commandLine, printTable, RESULTS_DIR, withRun, writeResults } from './lib/results.ts';
import { seedSyntheticProject } from './lib/synthetic.ts';
import { AUGMENTED_SLUG, augmentedTemplate } from './lib/augmented.ts';

const { values: args } = parseArgs({
  options: {
    'round-size': { type: 'string', default: '100' },
    items: { type: 'string' },
    realistic: { type: 'boolean', default: false },
  },
});
const ROUND_SIZE = Number(args['round-size']);
const REALISTIC = args.realistic ? Number(args.items ?? 1_000_000) : null;
const SYNTHETIC = !REALISTIC && args.items ? Number(args.items) : null;
if (SYNTHETIC !== null && !(Number.isInteger(SYNTHETIC) && SYNTHETIC >= 1000)) {
  throw new Error(`--items must be a whole number of at least 1000 (got ${args.items})`);
}
const SLUG = REALISTIC ? AUGMENTED_SLUG : SYNTHETIC ? 'synthetic' : 'fashion-mnist';

const { id, queues, connection, client } = await benchTemporal();

const TEMPLATE = REALISTIC
  ? await augmentedTemplate(REALISTIC)
  : SYNTHETIC
    ? `bench_round_synthetic_${SYNTHETIC}`
    : 'bench_round_fashion_mnist';
await ensureTemplate(TEMPLATE, async (db, database) => {
  if (SYNTHETIC) {
    log(`first run: ${SYNTHETIC} synthetic items into ${TEMPLATE}`);
    await seedSyntheticProject(db, { slug: SLUG, items: SYNTHETIC, budget: 1_000_000 });
  } else {
    await buildFashionMnist(db, database, { client, queues, slug: SLUG });
  }
});
const database = `bench_round_${id}`;
const db = await workingCopy(TEMPLATE, database);
const workers = {
  orchestration: await spawnWorker('orchestration', database, queues),
  gpu: await spawnWorker('gpu', database, queues),
};
const project = (await db.projects.bySlug(SLUG))!;
// Every head is promoted (this measures time, and the refresh it times follows a promotion):
// on real data a round's head can evaluate worse than the last one and be kept out.
await db.projects.update(project.id, { roundSize: ROUND_SIZE, promotionTolerance: 1 });
const items = (await db.projects.itemCounts(project.id)).total;

/** Runs one round with a labeler that answers at once; returns its phases. */
async function timedRound(name: string): Promise<RoundProgress> {
  const handle = await startRound(client, { projectId: project.id }, `${name}-${id}`, queues);
  const labeler = simulatedLabeler({ db, client }, project.id);
  await handle.result().finally(() => labeler.stop());
  return handle.query(roundProgress);
}

interface Refresh {
  /** From promotion to the new head answering searches (the build, then the switch). */
  seconds: number;
  searches: number;
  failedSearches: number;
  searchP50Ms: number | null;
  searchMaxMs: number | null;
  /**
   * Answers checked after the refresh (an even sample): each answer's distances recomputed
   * from the previous and the new head's stored vectors; an answer that matches neither
   * set entirely is mixed.
   */
  checkedAnswers?: number;
  mixedAnswers?: number;
  answeredBy?: { previous: number; new: number };
}

/** How many answers of a refresh are checked for mixed heads. */
const CHECKED_ANSWERS = 2000;

/** Whether every neighbour's distance is the one the head's stored vectors give (unit rows). */
async function answeredFrom(
  headVersionId: string,
  query: Float32Array,
  neighbours: { itemId: string; distance: number }[],
): Promise<boolean> {
  const vectors = await db.vectorSets.vectorsOf(
    headVersionId,
    neighbours.map((n) => n.itemId),
  );
  return neighbours.every((n) => {
    const v = vectors.get(n.itemId);
    return v !== undefined && Math.abs(cosineDistance(query, v) - n.distance) < 1e-3;
  });
}

/**
 * Waits for the background build of a promoted head's search index, searching the whole
 * time as `similar` does (k = 10 over the pool, the project's search head): how long the
 * refresh takes, and whether any search failed or stalled meanwhile.
 */
async function timedRefresh(progress: RoundProgress): Promise<Refresh> {
  const head = progress.headVersionId!;
  const promotedAt = Date.parse(
    progress.phases.find((p) => p.phase === 'checking-labels' || p.phase === 'completed')!
      .startedAt,
  );
  const queriesFrom = (await db.vectorSets.readPage({ headVersionId: head, splits: ['EVAL'] }))
    .slice(0, 50)
    .map((r) => r.vector);
  if (queriesFrom.length === 0) throw new Error(`head ${head} has no vectors: was it promoted?`);
  // The head answering searches until this one's index is built (this one, for a first head).
  const previous = (await db.projects.get(project.id)).searchHeadVersionId ?? head;
  let refreshing = true;
  const latencies: number[] = [];
  const answers: { q: number; neighbours: { itemId: string; distance: number }[] }[] = [];
  let failed = 0;
  const searching = (async () => {
    for (let q = 0; refreshing; q = (q + 1) % queriesFrom.length) {
      const started = performance.now();
      try {
        const found = await db.knn.search({
          projectId: project.id,
          embedding: queriesFrom[q]!,
          k: 10,
          filter: { splits: ['POOL'] },
        });
        if (found.length !== 10) failed++;
        answers.push({
          q,
          neighbours: found.map((n) => ({ itemId: n.itemId, distance: n.distance })),
        });
      } catch (error) {
        failed++;
        log(`search failed during the refresh: ${(error as Error).message}`);
      }
      latencies.push(performance.now() - started);
    }
  })();
  const result = await client.workflow
    .getHandle(`${SEARCH_INDEX_PREFIX}${head}`)
    .result()
    .finally(() => (refreshing = false));
  await searching;
  if (!(result as { searchable: boolean }).searchable) throw new Error(`head ${head} not searched`);
  const step = Math.max(1, answers.length / CHECKED_ANSWERS);
  const answeredBy = { previous: 0, new: 0 };
  let mixed = 0;
  let checked = 0;
  for (let i = 0; i < answers.length; i += step) {
    const { q, neighbours } = answers[Math.floor(i)]!;
    checked++;
    if (previous !== head && (await answeredFrom(previous, queriesFrom[q]!, neighbours))) {
      answeredBy.previous++;
    } else if (await answeredFrom(head, queriesFrom[q]!, neighbours)) {
      answeredBy.new++;
    } else {
      mixed++;
    }
  }
  const sorted = [...latencies].sort((x, y) => x - y);
  return {
    seconds: (Date.now() - promotedAt) / 1000,
    searches: latencies.length,
    failedSearches: failed,
    searchP50Ms: sorted.length ? sorted[Math.floor(sorted.length / 2)]! : null,
    searchMaxMs: sorted.at(-1) ?? null,
    checkedAnswers: checked,
    mixedAnswers: mixed,
    answeredBy,
  };
}

interface RunResult {
  command: string;
  date: string;
  data: string;
  items: number;
  roundSize: number;
  roundSeconds: number;
  coldStartRoundSeconds: number;
  peakRssMiB: Record<string, number>;
  /** Background builds of each round's head's search index (absent in runs before them). */
  searchIndexRefresh?: { round1: Refresh; round2: Refresh };
  rounds: {
    round: number;
    phases: { phase: string; seconds: number }[];
    asked: number;
    autoAccepted: number;
    macroF1: number | null;
  }[];
}

function phaseSeconds(progress: RoundProgress) {
  return progress.phases.slice(0, -1).map((p, i) => ({
    phase: p.phase,
    seconds: (Date.parse(progress.phases[i + 1]!.startedAt) - Date.parse(p.startedAt)) / 1000,
  }));
}

try {
  log(`${items} items; round 1 (cold start, ${ROUND_SIZE} labels, the default strategy)`);
  const cold = await timedRound('cold');
  log("round 1 done; its head's search index is built in the background");
  const coldRefresh = await timedRefresh(cold);
  log(`round 2 (${ROUND_SIZE} labels, the active head voting on the pool)`);
  const warm = await timedRound('warm');
  log('round 2 done; searches keep answering from the old index while the new one is built');
  const refresh = await timedRefresh(warm);
  const rows = [cold, warm].map((p) => ({
    round: p.number!,
    phases: phaseSeconds(p),
    progress: p,
  }));
  const total = (r: (typeof rows)[number]) =>
    r.phases.filter((p) => p.phase !== 'labeling').reduce((s, p) => s + p.seconds, 0);
  const phases = [...new Set(rows.flatMap((r) => r.phases.map((p) => p.phase)))];
  printTable(
    phases.map((phase) => ({
      phase,
      ...Object.fromEntries(
        rows.map((r) => [
          `round ${r.round} (s)`,
          r.phases.find((p) => p.phase === phase)?.seconds.toFixed(2) ?? '-',
        ]),
      ),
    })),
  );
  const rss = {
    orchestration: peakRssMiB(workers.orchestration.pid!),
    gpu: peakRssMiB(workers.gpu.pid!),
  };
  printTable([
    { measure: 'round 2 without the human wait (s)', value: total(rows[1]!).toFixed(1) },
    { measure: 'search index refresh after round 2 (s)', value: refresh.seconds.toFixed(1) },
    {
      measure: 'searches during that refresh: failed of all',
      value: `${refresh.failedSearches} of ${refresh.searches}`,
    },
    {
      measure: 'answers checked: mixed heads / from the previous / from the new head',
      value: `${refresh.mixedAnswers} / ${refresh.answeredBy!.previous} / ${refresh.answeredBy!.new} of ${refresh.checkedAnswers}`,
    },
    {
      measure: 'search p50 / max during that refresh (ms)',
      value: `${refresh.searchP50Ms?.toFixed(1)} / ${refresh.searchMaxMs?.toFixed(1)}`,
    },
    { measure: 'peak RSS orchestration worker (MiB)', value: rss.orchestration },
    { measure: 'peak RSS gpu worker (MiB)', value: rss.gpu },
  ]);
  const runs = withRun<RunResult>('round', REALISTIC ? `realistic-${items}` : String(items), {
    command: commandLine('round'),
    date: new Date().toISOString(),
    data: REALISTIC ? 'realistic' : SYNTHETIC ? 'synthetic' : 'Fashion-MNIST',
    items,
    roundSize: ROUND_SIZE,
    roundSeconds: total(rows[1]!),
    coldStartRoundSeconds: total(rows[0]!),
    peakRssMiB: rss,
    searchIndexRefresh: { round1: coldRefresh, round2: refresh },
    rounds: rows.map((r) => ({
      round: r.round,
      phases: r.phases,
      asked: r.progress.asked,
      autoAccepted: r.progress.autoAccepted,
      macroF1: r.progress.macroF1,
    })),
  });
  const ofSize = (key: number | string) => runs[String(key)] ?? null;
  const file = writeResults(
    'round',
    {
      roundSeconds70k: ofSize(70_000)?.roundSeconds ?? null,
      coldStartRoundSeconds70k: ofSize(70_000)?.coldStartRoundSeconds ?? null,
      roundSeconds1M: ofSize(1_000_000)?.roundSeconds ?? null,
      searchIndexRefreshSeconds70k: ofSize(70_000)?.searchIndexRefresh?.round2.seconds ?? null,
      searchIndexRefreshSeconds1M: ofSize(1_000_000)?.searchIndexRefresh?.round2.seconds ?? null,
      roundSecondsRealistic1M: ofSize('realistic-1000000')?.roundSeconds ?? null,
      searchIndexRefreshSecondsRealistic1M:
        ofSize('realistic-1000000')?.searchIndexRefresh?.round2.seconds ?? null,
      peakRssMiB: Object.fromEntries(Object.entries(runs).map(([n, r]) => [n, r.peakRssMiB])),
    },
    { runs },
  );
  const bars = Object.values(runs).flatMap((run) =>
    run.rounds.flatMap((r) =>
      r.phases
        .filter((p) => p.phase !== 'labeling')
        .map((p) => ({
          run: `${run.items} ${run.data === 'realistic' ? 'realistic ' : ''}items, round ${r.round}`,
          ...p,
        })),
    ),
  );
  await writeSvgChart(path.join(RESULTS_DIR, 'round.svg'), {
    title: 'One active-learning round: seconds per phase (human wait excluded)',
    width: 520,
    height: 40 * new Set(bars.map((b) => b.run)).size,
    data: { values: bars },
    mark: 'bar',
    encoding: {
      y: { field: 'run', type: 'nominal', title: null },
      x: { field: 'seconds', type: 'quantitative', stack: 'zero', title: 'seconds' },
      color: { field: 'phase', type: 'nominal', sort: phases },
    },
  });
  log(`wrote ${file} and round.svg`);
} finally {
  workers.orchestration.kill('SIGTERM');
  workers.gpu.kill('SIGTERM');
  await db.close();
  await connection.close();
  await sleep(1000);
  await dropDatabase(database);
}
