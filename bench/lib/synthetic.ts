// A synthetic project for round benchmarks at sizes no image set here has (1M items): items
// without images, each with a hidden class and a 128-d backbone feature drawn around one of
// a few modes of its class. No encoder runs (a round never decodes images: it works on
// stored features and vectors), so seeding takes about a minute per million items.
import { copyRows, type CopyField, type Pool, type PrismaClient } from '@beanstalk/db';
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
 * hidden classes, a registered stand-in encoder and its features. The draw is seeded; the
 * items' random ids decide which item gets which draw.
 */
export async function seedSyntheticProject(
  deps: { prisma: PrismaClient; pool: Pool },
  options: { slug: string; items: number; budget: number },
): Promise<{ projectId: string }> {
  const project = await deps.prisma.project.create({
    data: { slug: options.slug, name: `Synthetic ${options.items} items` },
  });
  await deps.prisma.labelClass.createMany({
    data: Array.from({ length: CLASSES }, (_, i) => ({
      projectId: project.id,
      name: `class-${i}`,
      position: i,
    })),
  });
  const encoder = await deps.prisma.encoderVersion.create({
    data: {
      name: `synthetic-${DIMS}`,
      onnxBlobKey: 'none: synthetic features are stored directly',
      sidecar: { format: 'synthetic' },
      inputWidth: 1,
      inputHeight: 1,
      channels: 1,
      dims: DIMS,
      status: 'ACTIVE',
    },
  });
  await deps.prisma.project.update({
    where: { id: project.id },
    data: { encoderVersionId: encoder.id },
  });
  await deps.prisma.budgetEvent.create({
    data: { projectId: project.id, amount: options.budget, reason: 'benchmark budget' },
  });
  // Item n: eval when n % 10 = 0, class (n / 10) % CLASSES, so both splits hold every class.
  await deps.pool.query(
    `INSERT INTO items (project_id, content_hash, blob_key, mime_type, width, height, channels,
                        split, source_ref)
     SELECT $1, 'synthetic-' || n, 'synthetic/' || n, 'application/x-synthetic', 1, 1, 1,
            (CASE WHEN n % 10 = 0 THEN 'EVAL' ELSE 'POOL' END)::"Split", n::text
       FROM generate_series(0, $2::int - 1) AS n`,
    [project.id, options.items],
  );
  await deps.pool.query(
    `INSERT INTO hidden_truth (item_id, label_class_id)
     SELECT i.id, c.id FROM items i
       JOIN label_classes c ON c.project_id = i.project_id
                           AND c.position = (i.source_ref::int / 10) % $2
      WHERE i.project_id = $1`,
    [project.id, CLASSES],
  );
  log(`  ${options.items} items and their classes stored; drawing features`);
  const feature = featureSource(options.items);
  let after: string | null = null;
  let done = 0;
  for (;;) {
    const { rows }: { rows: { id: string; n: number }[] } = await deps.pool.query(
      `SELECT id, source_ref::int AS n FROM items
        WHERE project_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [project.id, after, PAGE],
    );
    if (rows.length === 0) break;
    await copyRows(
      deps.pool,
      'item_features (encoder_version_id, item_id, feature)',
      rows.map((r): CopyField[] => [
        { uuid: encoder.id },
        { uuid: r.id },
        {
          vector: feature(Math.floor(r.n / 10) % CLASSES, Math.floor(r.n / 100) % MODES_PER_CLASS),
        },
      ]),
    );
    done += rows.length;
    after = rows.at(-1)!.id;
    if (done % 200_000 < PAGE) log(`  features: ${done} / ${options.items}`);
  }
  await deps.pool.query('VACUUM ANALYZE items, hidden_truth, item_features');
  return { projectId: project.id };
}
