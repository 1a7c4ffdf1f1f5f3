import type { Database, HeadVersion } from '@beanstalk/db';
import {
  deserializeHead,
  HeadProjector,
  type HeadWeights,
  type InferenceThread,
} from '@beanstalk/ml';

/** A stored head's weights, ready for `project` or a HeadProjector. */
export function headWeights(head: HeadVersion): HeadWeights {
  const { shapes } = head.config as { shapes: number[][] };
  return deserializeHead(head.weights, shapes, head.kind === 'LINEAR' ? 'linear' : 'mlp');
}

export async function loadHead(db: Database, headVersionId: string): Promise<HeadWeights> {
  return headWeights(await db.heads.get(headVersionId));
}

/**
 * Projectors by head version for the life of a process: heads never change once stored, so
 * each is loaded once (onnxruntime, one thread: it serves single requests side by side; in
 * `thread` when one is given).
 */
export class ProjectorCache {
  private readonly loaded = new Map<string, Promise<HeadProjector>>();

  constructor(
    private readonly db: Database,
    private readonly threads = 1,
    private readonly thread?: InferenceThread,
  ) {}

  get(headVersionId: string): Promise<HeadProjector> {
    let projector = this.loaded.get(headVersionId);
    if (!projector) {
      projector = loadHead(this.db, headVersionId).then((w) =>
        HeadProjector.create(w, this.threads, this.thread),
      );
      projector.catch(() => this.loaded.delete(headVersionId));
      this.loaded.set(headVersionId, projector);
    }
    return projector;
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled(this.loaded.values());
    this.loaded.clear();
    for (const p of all) if (p.status === 'fulfilled') await p.value.release();
  }
}
