// A synthetic project for round benchmarks at sizes no image set here has (1M items): items
// without images, each with a hidden class and a 128-d backbone feature drawn around one of
// a few modes of its class. No encoder runs (a round never decodes images: it works on
// stored features and vectors).
import type { Database } from '@beanstalk/db';
import { seededRandom } from '@beanstalk/ml';
import { log } from './fashion-mnist.ts';

const DIMS = 128;
const CLASSES = 10;
const MODES_PER_CLASS = 4;
const PAGE = 20_000;

/** Unit vectors around class centres; `spread` sets how much the classes overlap. */
function featureSource(seed: number, spread = 1.4) {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const scale = 1 / Math.sqrt(DIMS);
  const centres = Array.from({ length: CLASSES }, () => {
    const centre = Array.from({ length: DIMS }, () => gauss() * scale);
    return Array.from({ length: MODES_PER_CLASS }, () =>
      Float32Array.from(centre, (v) => v + 0.6 * gauss() * scale),
    );
  });
  return (classIndex: number, mode: number): Float32Array => {
    const centre = centres[classIndex]![mode]!;
    const out = Float32Array.from(centre, (v) => v + spread * gauss() * scale);
    const norm = Math.hypot(...out) + 1e-12;
    return out.map((v) => v / norm);
  };
}

/**
 * Creates project `slug` with `items` synthetic items (every tenth in the eval split), their
 * hidden classes, a registered stand-in encoder and its features, all through the platform's
 * repositories. The draw is seeded by the item count.
 */
export async function seedSyntheticProject(
  db: Database,
  options: { slug: string; items: number; budget: number },
): Promise<{ projectId: string }> {
  const project = await db.projects.create({
    slug: options.slug,
    name: `Synthetic ${options.items} items`,
    simulation: true,
    classes: Array.from({ length: CLASSES }, (_, i) => ({ name: `class-${i}` })),
  });
  const classes = await db.classes.ofProject(project.id);
  const encoder = await db.encoders.create({
    name: `synthetic-${DIMS}`,
    onnxBlobKey: 'none: synthetic features are stored directly',
    sidecar: { format: 'synthetic' },
    inputWidth: 1,
    inputHeight: 1,
    channels: 1,
    dims: DIMS,
  });
  await db.projects.setEncoderIfNone(project.id, encoder.id);
  await db.budget.add({
    projectId: project.id,
    amount: options.budget,
    reason: 'benchmark budget',
  });
  const feature = featureSource(options.items);
  // Item n: eval when n % 10 = 0, class (n / 10) % CLASSES, so both splits hold every class.
  for (let start = 0; start < options.items; start += PAGE) {
    const ns = Array.from({ length: Math.min(PAGE, options.items - start) }, (_, i) => start + i);
    const hash = (n: number) => `synthetic-${n}`;
    await db.items.insertBatch(
      project.id,
      ns.map((n) => ({
        contentHash: hash(n),
        mimeType: 'application/x-synthetic',
        width: 1,
        height: 1,
        channels: 1,
        split: n % 10 === 0 ? 'EVAL' : 'POOL',
        sourceRef: String(n),
        hiddenClassId: classes[Math.floor(n / 10) % CLASSES]!.id,
      })),
    );
    const ids = await db.items.idsByContentHash(project.id, ns.map(hash));
    await db.features.insert(
      encoder.id,
      ns.map((n) => ({
        itemId: ids.get(hash(n))!,
        feature: feature(Math.floor(n / 10) % CLASSES, Math.floor(n / 100) % MODES_PER_CLASS),
      })),
    );
    const done = start + ns.length;
    if (done % 200_000 < PAGE) log(`  items and features: ${done} / ${options.items}`);
  }
  await db.analyze();
  return { projectId: project.id };
}
