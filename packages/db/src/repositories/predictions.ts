import type { Prediction } from '../generated/prisma/client.ts';
import { asModel, type Queryable } from '../queryable.ts';

/** One item's scored prediction under a head. */
export interface NewPrediction {
  itemId: string;
  labelClassId: string;
  confidence: number;
  margin: number;
  entropy: number;
  anomalyScore: number;
  probabilities: ArrayLike<number>;
}

/** kNN predictions per (head, item): what a round's scoring stored for each pool item. */
export class PredictionRepository {
  constructor(private readonly db: Queryable) {}

  /** Stores (or replaces) a page of predictions under a head, noting the round. */
  async upsert(headVersionId: string, roundId: string | null, page: NewPrediction[]) {
    await this.db.query(
      `INSERT INTO predictions (head_version_id, item_id, round_id, label_class_id,
                                confidence, margin, entropy, anomaly_score, probabilities)
       SELECT $1, x.item_id, $2, x.label_class_id, x.confidence, x.margin, x.entropy,
              x.anomaly_score, x.probabilities
         FROM jsonb_to_recordset($3::jsonb) AS x(item_id uuid, label_class_id uuid,
              confidence float8, margin float8, entropy float8, anomaly_score float8,
              probabilities float8[])
       ON CONFLICT (head_version_id, item_id) DO UPDATE
         SET round_id = EXCLUDED.round_id, label_class_id = EXCLUDED.label_class_id,
             confidence = EXCLUDED.confidence, margin = EXCLUDED.margin,
             entropy = EXCLUDED.entropy, anomaly_score = EXCLUDED.anomaly_score,
             probabilities = EXCLUDED.probabilities, created_at = now()`,
      [
        headVersionId,
        roundId,
        JSON.stringify(
          page.map((p) => ({
            item_id: p.itemId,
            label_class_id: p.labelClassId,
            confidence: p.confidence,
            margin: p.margin,
            entropy: p.entropy,
            anomaly_score: p.anomalyScore,
            probabilities: Array.from(p.probabilities),
          })),
        ),
      ],
    );
  }

  /** Predictions for (head version, item) pairs. */
  async ofPairs(
    pairs: readonly { headVersionId: string; itemId: string }[],
  ): Promise<Prediction[]> {
    const { rows } = await this.db.query(
      `SELECT p.* FROM predictions p
         JOIN unnest($1::uuid[], $2::uuid[]) AS k(head_version_id, item_id)
           ON p.head_version_id = k.head_version_id AND p.item_id = k.item_id`,
      [pairs.map((p) => p.headVersionId), pairs.map((p) => p.itemId)],
    );
    return rows.map((r) => asModel<Prediction>(r)!);
  }

  /**
   * For a precision/recall preview: each human-labeled item's prediction confidence under the
   * head and whether it was right (held out: a round scores only unlabeled items, so the
   * prediction came before the label).
   */
  async heldOutOutcomes(
    headVersionId: string,
  ): Promise<{ confidence: number; correct: boolean }[]> {
    const { rows } = await this.db.query<{ confidence: number; correct: boolean }>(
      `SELECT p.confidence, p.label_class_id = cl.label_class_id AS correct
         FROM predictions p JOIN current_labels cl ON cl.item_id = p.item_id
        WHERE p.head_version_id = $1 AND cl.source = 'HUMAN' AND cl.label_class_id IS NOT NULL`,
      [headVersionId],
    );
    return rows;
  }

  /**
   * For each threshold, how many of the head's still unlabeled items it would accept
   * (confidence at or above it). Counted in the database, one row per threshold: the pool's
   * confidences never travel (a million of them would, on every dashboard refresh).
   */
  async unlabeledAtOrAbove(headVersionId: string, thresholds: number[]): Promise<number[]> {
    const ascending = [...new Set(thresholds)].sort((a, b) => a - b);
    if (ascending.length === 0) return [];
    // width_bucket: 0 below the first threshold, j when ascending[j-1] <= confidence < ascending[j].
    const { rows } = await this.db.query<{ bucket: number; n: string }>(
      `SELECT width_bucket(p.confidence, $2::float8[]) AS bucket, count(*) AS n
         FROM predictions p
        WHERE p.head_version_id = $1
          AND NOT EXISTS (SELECT 1 FROM current_labels cl
                           WHERE cl.item_id = p.item_id AND cl.label_class_id IS NOT NULL)
        GROUP BY 1`,
      [headVersionId, ascending],
    );
    const inBucket = new Array<number>(ascending.length + 1).fill(0);
    for (const r of rows) inBucket[r.bucket] = Number(r.n);
    const atOrAbove = new Map<number, number>();
    let sum = 0;
    for (let j = ascending.length - 1; j >= 0; j--) {
      sum += inBucket[j + 1]!;
      atOrAbove.set(ascending[j]!, sum);
    }
    return thresholds.map((t) => atOrAbove.get(t)!);
  }
}
