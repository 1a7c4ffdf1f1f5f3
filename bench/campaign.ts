// Label efficiency of the platform itself: active-learning rounds run by the real workflows on
// the real Temporal server, with orchestration and gpu workers as processes, on Fashion-MNIST
// (the first --pool train images as the pool, the first --pool test images, at most 10,000, as
// eval). A simulated labeler answers every task at once with the hidden truth, through the
// API's label path. The rounds are the campaign's rounds, started one by one so each can be
// measured before the next begins.
//
// Within a seed, every configuration (strategy, auto-accept on or off) starts from a copy of
// the same embedded project and gets the same random draws: the cold start, random sampling,
// the eval sample and head-training seeds are keyed by seed and round. After every round:
//   - macro-F1 of the active head's kNN vote on ALL eval items against the hidden truth
//     (a simulation figure: the platform's own evaluation reads only the eval sample people
//     labeled, recorded next to it);
//   - kNN on backbone features with the same human labels (what the head adds);
//   - kNN on raw pixels with the random configuration's labels (the floor);
//   - auto labels, their 95% bound and their true precision (simulation figure).
//
//   npm run bench:campaign [-- --pool 8000 --seeds 0,1,2 --labels 1000
//                             --configs random,margin,margin-diversity,margin-diversity+auto,typiclust
//                             --encoder models/fashion-mnist-dae --tune-after 100,500]
//   npm run bench:campaign -- --summary-only   (the summary and chart again, over the runs kept)
//
// A configuration may stop early: `margin-diversity@1000` runs to 1 000 human labels while
// `--labels` (the longest) is 2 000. `+tune` fine-tunes the project's encoder with its labels
// (the trainEncoder workflow, objective finetune, on a Python training worker: re-embedding
// every item and switching the project) after the rounds that end at --tune-after labels; the
// next round trains its head on the new features, and "backbone kNN" is then the fine-tuned
// encoder's. With random sampling taken to 2 000 labels on the full pool
// the summary reports `labelsToRandom2000`: the fewest human labels at which another
// configuration's mean reaches random's mean at 2 000, looked for in every full-pool run with
// the same encoder and seeds, so a strategy can be taken further in a run of its own (--key).
//
// The first run of a pool size builds a template database (import and embedding). Results:
// bench/results/campaign.json (one entry per pool size) and campaign.svg.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Database } from '@beanstalk/db';
import { classificationReport, STRATEGIES, stackRows, type Strategy } from '@beanstalk/ml';
import { loadReferences, scorerFor } from '@beanstalk/model-runtime';
import { startEncoderTraining, startRound } from '@beanstalk/orchestration';
import { dropDatabase } from '../tooling/testing/src/index.ts';
import { writeSvgChart } from './lib/chart.ts';
import { CLASSES, loadFashionMnist, log, pixelRows, ROOT } from './lib/fashion-mnist.ts';
import { knnScore } from './lib/knn.ts';
import {
  benchTemporal,
  buildFashionMnist,
  ensureTemplate,
  simulatedLabeler,
  spawnWorker,
  workingCopy,
} from './lib/platform.ts';
import {
  commandLine,
  meanSd,
  previousResults,
  printTable,
  RESULTS_DIR,
  withRun,
  writeResults,
} from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    pool: { type: 'string', default: '8000' },
    seeds: { type: 'string', default: '0,1,2' },
    labels: { type: 'string', default: '1000' },
    'round-size': { type: 'string', default: '100' },
    // A strategy, with "+auto" for auto-accept on, "+tune" for fine-tuning the encoder after
    // the rounds of --tune-after, and "@<labels>" to stop before --labels.
    configs: {
      type: 'string',
      default: 'random,margin,margin-diversity,margin-diversity+auto,typiclust',
    },
    'precision-target': { type: 'string', default: '0.95' },
    encoder: { type: 'string', default: 'models/fashion-mnist-dae' },
    'tune-after': { type: 'string', default: '100,500' },
    'tune-epochs': { type: 'string', default: '30' },
    // Where the run is kept in campaign.json (default: the pool size), for variants.
    key: { type: 'string' },
    // Only the summary and chart, again, over the runs kept (no campaign is run).
    'summary-only': { type: 'boolean', default: false },
  },
});
const POOL = Number(args.pool);
if (!(Number.isInteger(POOL) && POOL >= 1000 && POOL <= 60_000)) {
  throw new Error(`--pool must be 1000..60000 (got ${args.pool})`);
}
const SEEDS = args.seeds!.split(',').map(Number);
const ROUND_SIZE = Number(args['round-size']);
const ROUNDS = Math.ceil(Number(args.labels) / ROUND_SIZE);
const PRECISION_TARGET = Number(args['precision-target']);
const CONFIGS = args.configs!.split(',').map((c) => {
  const [name, limit] = c.split('@') as [string, string | undefined];
  const [strategy, ...extras] = name.split('+') as [Strategy, ...string[]];
  const rounds = limit === undefined ? ROUNDS : Math.ceil(Number(limit) / ROUND_SIZE);
  if (
    !STRATEGIES.includes(strategy) ||
    !extras.every((e) => e === 'auto' || e === 'tune') ||
    new Set(extras).size !== extras.length ||
    !(Number.isInteger(rounds) && rounds >= 1 && rounds <= ROUNDS)
  ) {
    throw new Error(
      `unknown configuration ${c} (a strategy of ${STRATEGIES.join(', ')}, optionally +auto ` +
        `and +tune, optionally @<labels> up to --labels)`,
    );
  }
  return { strategy, auto: extras.includes('auto'), tune: extras.includes('tune'), rounds };
});
// Fine-tuning follows the rounds that end at these many round labels (whole rounds).
const TUNE_ROUNDS = new Set(
  args['tune-after']!.split(',').map((labels) => {
    const round = Number(labels) / ROUND_SIZE;
    if (!(Number.isInteger(round) && round >= 1)) {
      throw new Error(`--tune-after takes whole rounds of ${ROUND_SIZE} labels (got ${labels})`);
    }
    return round;
  }),
);
const TUNE_EPOCHS = Number(args['tune-epochs']);
const CHECKPOINTS = [100, 200, 500, 600, 1000, 2000];
const ENCODER = args.encoder!;
// The template holds the encoder's embeddings: its name carries the model file's hash, so a
// retrained model at the same path gets a template of its own instead of stale vectors.
const ENCODER_HASH = createHash('sha256')
  .update(readFileSync(path.resolve(ROOT, ENCODER, 'encoder.onnx')))
  .digest('hex')
  .slice(0, 8);
const TEMPLATE = `bench_campaign_fm_${POOL}_${path.basename(ENCODER).replace(/\W+/g, '_')}_${ENCODER_HASH}`;
const SLUG = 'fashion-mnist';

if (args['summary-only']) {
  const kept = previousResults('campaign')?.runs as Record<string, CampaignRun> | undefined;
  if (!kept) throw new Error('--summary-only: bench/results/campaign.json has no runs yet');
  await summarise(kept);
  process.exit(0);
}

const { id, queues, connection, client } = await benchTemporal();
const data = await loadFashionMnist();
const PIXELS = 28 * 28;

await ensureTemplate(TEMPLATE, (db, database) =>
  buildFashionMnist(db, database, { client, queues, slug: SLUG, limit: POOL, encoder: ENCODER }),
);

interface Point {
  seed: number;
  strategy: Strategy;
  auto: boolean;
  tune: boolean;
  round: number;
  humanLabels: number;
  poolLabels: number;
  evalLabels: number;
  autoLabels: number;
  roundAutoAccepted: number;
  autoBound: number | null;
  autoTruePrecision: number | null;
  /** Active head's kNN vote on all eval items vs hidden truth (simulation figure). */
  macroF1: number;
  /** What the platform itself recorded for the round (eval sample, or marked simulated). */
  platformMacroF1: number | null;
  platformTruth: string | null;
  platformEvaluated: number | null;
  /** kNN on backbone features with the same human pool labels. */
  backboneMacroF1: number;
  /** kNN on raw pixels with the same human pool labels. */
  rawPixelMacroF1: number;
  seconds: number;
  /** +tune: seconds the fine-tuning after this round took (training, embedding, switching). */
  fineTuneSeconds?: number;
}

/** Dataset row of a Fashion-MNIST item, from its source reference (`<file>#<index>`). */
function pixelsOf(sourceRefs: (string | null)[]): Float32Array {
  const out = new Uint8Array(sourceRefs.length * PIXELS);
  sourceRefs.forEach((ref, i) => {
    const [file, index] = (ref ?? '').split('#');
    const images = file!.startsWith('t10k') ? data.testImages : data.trainImages;
    const n = Number(index);
    out.set(images.subarray(n * PIXELS, (n + 1) * PIXELS), i * PIXELS);
  });
  return pixelRows(out, sourceRefs.length);
}

async function measure(
  db: Database,
  projectId: string,
  roundId: string,
  started: number,
): Promise<Omit<Point, 'seed' | 'strategy' | 'auto' | 'tune'>> {
  const project = await db.projects.get(projectId);
  const head = project.activeHeadVersionId!;
  const set = await loadReferences(db, { headVersionId: head, projectId });
  const indexOf = new Map(set.classes.map((c, i) => [c.id, i]));
  const evalRows = await db.vectorSets.readPage({ headVersionId: head, splits: ['EVAL'] });
  const hidden = await db.items.hiddenTruth(evalRows.map((r) => r.itemId));
  const truth = evalRows.map((r) => indexOf.get(hidden.get(r.itemId)!)!);
  const scorer = await scorerFor(set, { k: project.k });
  const votes = await scorer
    .votes(
      stackRows(
        evalRows.map((r) => r.vector),
        set.references.dims,
      ),
    )
    .finally(() => scorer.release());
  const macroF1 = classificationReport(
    truth,
    votes.map((v) => v.predicted),
    CLASSES,
  ).macroF1;
  // The same human labels, without the head: backbone features and raw pixels.
  const human = set.rows.filter((r) => r.labelSource !== 'AUTO');
  const humanLabels = Int32Array.from(human, (r) => indexOf.get(r.labelClassId!)!);
  const features = await db.features.of(project.encoderVersionId!, [
    ...human.map((r) => r.itemId),
    ...evalRows.map((r) => r.itemId),
  ]);
  const dims = features.values().next().value!.length;
  const backbone = await knnScore(
    stackRows(
      human.map((r) => features.get(r.itemId)!),
      dims,
    ),
    humanLabels,
    stackRows(
      evalRows.map((r) => features.get(r.itemId)!),
      dims,
    ),
    dims,
    truth,
  );
  const items = new Map(
    (await db.items.byIds([...human, ...evalRows].map((r) => r.itemId))).map((i) => [i.id, i]),
  );
  const raw = await knnScore(
    pixelsOf(human.map((r) => items.get(r.itemId)!.sourceRef)),
    humanLabels,
    pixelsOf(evalRows.map((r) => items.get(r.itemId)!.sourceRef)),
    PIXELS,
    truth,
  );
  const bySplit = await db.labels.countHumanBySplit(projectId);
  const humanTotal = bySplit.POOL + bySplit.EVAL + bySplit.GOLD;
  const evalLabels = bySplit.EVAL;
  const round = await db.rounds.get(roundId);
  const autoTruth = await db.labels.autoTruthOfRound(roundId);
  const snapshot = await db.metrics.latestOfRound(roundId);
  return {
    round: round.number,
    humanLabels: humanTotal,
    poolLabels: humanTotal - evalLabels,
    evalLabels,
    autoLabels: set.rows.length - human.length,
    roundAutoAccepted: round.autoAccepted,
    autoBound: round.autoPrecisionBound,
    autoTruePrecision: autoTruth ? autoTruth.right / autoTruth.checked : null,
    macroF1,
    platformMacroF1: snapshot?.macroF1 ?? null,
    platformTruth: (snapshot?.details as { truth?: string } | undefined)?.truth ?? null,
    platformEvaluated: (snapshot?.details as { evaluated?: number } | undefined)?.evaluated ?? null,
    backboneMacroF1: backbone.macroF1,
    rawPixelMacroF1: raw.macroF1,
    seconds: (Date.now() - started) / 1000,
  };
}

/** One configuration of one seed: `rounds` rounds on a fresh copy of the template. */
async function runCampaign(
  seed: number,
  { strategy, auto, tune, rounds }: (typeof CONFIGS)[number],
): Promise<Point[]> {
  const database = `bench_campaign_${id}`;
  await dropDatabase(database);
  const db = await workingCopy(TEMPLATE, database);
  const workers = [
    await spawnWorker('orchestration', database, queues, { quiet: true }),
    await spawnWorker('gpu', database, queues, { quiet: true }),
    ...(tune ? [await spawnWorker('train', database, queues, { quiet: true })] : []),
  ];
  const points: Point[] = [];
  try {
    const project = (await db.projects.bySlug(SLUG))!;
    await db.projects.update(project.id, {
      roundSize: ROUND_SIZE,
      autoAcceptEnabled: auto,
      autoAcceptPrecisionTarget: PRECISION_TARGET,
    });
    for (let r = 1; r <= rounds; r++) {
      const started = Date.now();
      const handle = await startRound(
        client,
        { projectId: project.id, strategy, seed },
        `campaign-${id}-${seed}-${strategy}-${auto}-${r}`,
        queues,
      );
      const labeler = simulatedLabeler({ db, client }, project.id);
      const result = await handle.result().finally(() => labeler.stop());
      const point: Point = {
        seed,
        strategy,
        auto,
        tune,
        ...(await measure(db, project.id, result.roundId, started)),
      };
      points.push(point);
      log(
        `  seed ${seed} ${strategy}${auto ? ' +auto' : ''}${tune ? ' +tune' : ''} round ${r}: ${point.humanLabels} human (${point.evalLabels} eval), ` +
          `macro-F1 ${point.macroF1.toFixed(4)} (backbone kNN ${point.backboneMacroF1.toFixed(4)}, raw pixels ${point.rawPixelMacroF1.toFixed(4)}), ` +
          `auto ${point.roundAutoAccepted}${point.autoTruePrecision != null ? ` at true precision ${point.autoTruePrecision.toFixed(3)}` : ''}, ${point.seconds.toFixed(0)} s`,
      );
      if (tune && TUNE_ROUNDS.has(r) && r < rounds) {
        const tuning = Date.now();
        const handle = await startEncoderTraining(
          client,
          { projectId: project.id, objective: 'finetune', epochs: TUNE_EPOCHS, seed },
          queues,
        );
        const tuned = await handle.result();
        point.fineTuneSeconds = (Date.now() - tuning) / 1000;
        log(
          `  seed ${seed} fine-tuned the encoder after round ${r}: ${tuned.embedded} items re-embedded, ${point.fineTuneSeconds.toFixed(0)} s`,
        );
      }
    }
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await db.close();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await dropDatabase(database);
  }
  return points;
}

const configName = (c: { strategy: string; auto: boolean; tune: boolean }) =>
  `${c.strategy}${c.auto ? ' + auto-accept' : ''}${c.tune ? ' + fine-tuning' : ''}`;

const points: Point[] = [];
const totalRuns = SEEDS.length * CONFIGS.length;
// Progress counts rounds, since configurations may run different numbers of them.
const totalRounds = SEEDS.length * CONFIGS.reduce((s, c) => s + c.rounds, 0);
let done = 0;
let started = 0;
const began = Date.now();
for (const seed of SEEDS) {
  for (const c of CONFIGS) {
    log(
      `run ${++started}/${totalRuns}: seed ${seed}, ${configName(c)}, ${c.rounds} rounds of ${ROUND_SIZE}`,
    );
    points.push(...(await runCampaign(seed, c)));
    done += c.rounds;
    const eta = ((Date.now() - began) / done) * (totalRounds - done);
    log(`  ${done}/${totalRounds} rounds done, about ${Math.round(eta / 60_000)} min left`);
  }
}
await connection.close();

/** Mean and spread over seeds at each round, per configuration and for the baselines. */
function curves() {
  const rows: { series: string; humanLabels: number; mean: number; sd: number; n: number }[] = [];
  const add = (series: string, at: Point[], value: (p: Point) => number) => {
    for (let r = 1; r <= ROUNDS; r++) {
      const ps = at.filter((p) => p.round === r);
      if (ps.length === 0) continue;
      const xs = ps.map(value);
      rows.push({
        series,
        humanLabels: Math.round(meanSd(ps.map((p) => p.humanLabels)).mean),
        ...meanSd(xs),
        n: xs.length,
      });
    }
  };
  for (const c of CONFIGS) {
    add(
      configName(c),
      points.filter((p) => configName(p) === configName(c)),
      (p) => p.macroF1,
    );
  }
  const random = points.filter((p) => configName(p) === 'random');
  if (random.length) {
    add('kNN on raw pixels, random labels', random, (p) => p.rawPixelMacroF1);
    add('kNN on backbone features, random labels', random, (p) => p.backboneMacroF1);
  }
  return rows;
}
const series = curves();
const at = (name: string, labels: number) =>
  series.find((s) => s.series === name && s.humanLabels === labels) ?? null;
const checkpoints = CHECKPOINTS.filter((c) => c <= ROUNDS * ROUND_SIZE);
printTable(
  [...new Set(series.map((s) => s.series))].map((name) => ({
    series: name,
    ...Object.fromEntries(
      checkpoints.map((c) => {
        const s = at(name, c);
        return [`at ${c}`, s ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : '-'];
      }),
    ),
  })),
);
const autoRounds = points.filter((p) => p.roundAutoAccepted > 0 && p.autoTruePrecision !== null);
const met = autoRounds.filter((p) => p.autoTruePrecision! >= PRECISION_TARGET).length;
const best600 = CONFIGS.map((c) => ({ name: configName(c), s: at(configName(c), 600) }))
  .filter((x) => x.s)
  .sort((a, b) => b.s!.mean - a.s!.mean)[0];
const raw600 = at('kNN on raw pixels, random labels', 600);
const random2000 = at('random', 2000);
const run = {
  command: commandLine('campaign'),
  date: new Date().toISOString(),
  pool: POOL,
  eval: Math.min(POOL, 10_000),
  encoder: ENCODER,
  encoderHash: ENCODER_HASH,
  seeds: SEEDS,
  roundSize: ROUND_SIZE,
  rounds: ROUNDS,
  precisionTarget: PRECISION_TARGET,
  minutes: (Date.now() - began) / 60_000,
  truth:
    'macroF1, backbone and raw-pixel figures: all eval items against hidden truth (simulation)',
  bestAt600: best600 ? { config: best600.name, mean: best600.s!.mean, sd: best600.s!.sd } : null,
  rawPixelAt600: raw600 ? { mean: raw600.mean, sd: raw600.sd } : null,
  random2000: random2000 ? { mean: random2000.mean, sd: random2000.sd } : null,
  autoRounds: autoRounds.length,
  autoRoundsMeetingTarget: met,
  series,
  points,
};
await summarise(withRun('campaign', args.key ?? String(POOL), run));

/**
 * The model file a run used. Runs from before the file's hash was recorded (the morning of
 * 2026-12-06) carry none; which file they used is in git: models/fashion-mnist-ae/encoder.onnx
 * as committed at 3ff84fa (sha256 1cd3aeee…), replaced by the retrained one at c494f48, after
 * those runs. Other encoders' runs without a hash pair only with each other.
 */
function modelHash(r: CampaignRun): string {
  const before: Record<string, string> = { 'models/fashion-mnist-ae': '1cd3aeee' };
  return r.encoderHash ?? before[r.encoder] ?? `unrecorded:${r.encoder}`;
}

/** A run as campaign.json keeps it (what the summary and the chart read). */
interface CampaignRun {
  pool: number;
  encoder: string;
  encoderHash?: string;
  seeds: number[];
  series: { series: string; humanLabels: number; mean: number; sd: number; n: number }[];
  bestAt600: { config: string; mean: number; sd: number } | null;
  rawPixelAt600: { mean: number; sd: number } | null;
  random2000: { mean: number; sd: number } | null;
  autoRounds: number;
  autoRoundsMeetingTarget: number;
}

/**
 * The summary over every run kept (the headline figures, which read runs of other keys too)
 * and the chart; after a run, or alone with --summary-only.
 */
async function summarise(runs: Record<string, CampaignRun>) {
  // The supervised reference: a CNN trained on every training label (apps/trainer's
  // `supervised`), evaluated on the same 10 000 test images; its metrics.json says how.
  const supervised = JSON.parse(
    readFileSync(path.join(ROOT, 'models/fashion-mnist-supervised/metrics.json'), 'utf8'),
  ) as { macroF1: number };
  const small = runs['8000'] as CampaignRun | undefined;
  const full = runs['60000'] as CampaignRun | undefined;
  const autoMet = Object.values(runs).reduce((s, r) => s + r.autoRoundsMeetingTarget, 0);
  const autoAll = Object.values(runs).reduce((s, r) => s + r.autoRounds, 0);
  // The full pool's random 2 000-label mean, reached by which configuration of any full-pool run
  // with the same encoder file and seeds (draws are keyed by seed and round, so such runs pair): a
  // strategy can be taken further in a run of its own, under another key.
  const target = full?.random2000?.mean;
  const paired = Object.values(runs).filter(
    (r) =>
      r.pool === full?.pool &&
      r.encoder === full.encoder &&
      modelHash(r) === modelHash(full) &&
      r.seeds.join() === full.seeds.join(),
  );
  const strategies = paired.flatMap((r) =>
    r.series.filter((x) => x.series !== 'random' && !x.series.startsWith('kNN ')),
  );
  const reached = strategies
    .filter((x) => target !== undefined && x.mean >= target)
    .sort((a, b) => a.humanLabels - b.humanLabels)[0];
  // The headline: the best configuration at 600 human labels in any full-pool run of three or more
  // seeds (each run carries its own raw-pixel baseline, so it stands alone).
  const best600Full = Object.values(runs)
    .filter((r) => r.pool === 60_000 && r.seeds.length >= 3)
    .map((r) => r.bestAt600)
    .filter((b) => b !== null)
    .sort((a, b) => b.mean - a.mean)[0];
  const file = writeResults(
    'campaign',
    {
      // The full pool's best configuration at 600 human labels (the headline target).
      macroF1At600Mean: best600Full?.mean ?? null,
      macroF1At600Sd: best600Full?.sd ?? null,
      macroF1At600Config: best600Full?.config ?? null,
      macroF1At600Small: small?.bestAt600?.mean ?? null,
      rawPixelAt600Small: small?.rawPixelAt600?.mean ?? null,
      smallPoolMarginOverRawPixels600:
        small?.bestAt600 && small.rawPixelAt600
          ? small.bestAt600.mean - small.rawPixelAt600.mean
          : null,
      // Full pool: fewest labels for any configuration to reach random's 2 000-label mean (null:
      // not reached within the labels run, or random not taken to 2 000), and by which.
      labelsToRandom2000: reached?.humanLabels ?? null,
      labelsToRandom2000Config: reached?.series ?? null,
      labelsToRandom2000MeasuredTo:
        target !== undefined && strategies.length
          ? Math.max(...strategies.map((x) => x.humanLabels))
          : null,
      // Rounds (all runs, each against its own target) whose auto labels met the precision target.
      autoPrecisionMetShare: autoAll > 0 ? autoMet / autoAll : null,
      autoRoundsMeetingTarget: autoMet,
      autoRounds: autoAll,
      supervisedMacroF1: supervised.macroF1,
    },
    { runs },
  );
  const bands = Object.entries(runs).flatMap(([key, r]) => {
    const { pool, encoder, series: rows } = r;
    const name = `pool ${pool.toLocaleString('en')}, ${path.basename(encoder ?? 'fashion-mnist-dae')}${key === String(pool) ? '' : ` (${key})`}`;
    return rows.map((s) => ({ ...s, pool: name, low: s.mean - s.sd, high: s.mean + s.sd }));
  });
  await writeSvgChart(path.join(RESULTS_DIR, 'campaign.svg'), {
    title: 'Macro-F1 on all eval items (simulated truth) vs human labels: mean ± sd over seeds',
    data: { values: bands },
    facet: { column: { field: 'pool', type: 'nominal', title: null } },
    spec: {
      width: 420,
      height: 300,
      encoding: {
        x: {
          field: 'humanLabels',
          type: 'quantitative',
          title: 'human labels (eval sample included)',
        },
        color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 320 } },
      },
      layer: [
        {
          mark: { type: 'area', opacity: 0.15 },
          encoding: {
            y: { field: 'low', type: 'quantitative', scale: { zero: false }, title: 'macro-F1' },
            y2: { field: 'high' },
          },
        },
        {
          mark: { type: 'line', point: true },
          encoding: { y: { field: 'mean', type: 'quantitative' } },
        },
      ],
    },
  });
  log(`wrote ${file} and campaign.svg`);
}
