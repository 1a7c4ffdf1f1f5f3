import { heartbeat } from '@temporalio/activity';
import {
  activateVectorSet,
  appendLabel,
  budgetOf,
  dropVectorSet,
  expireTasks,
  lockProjectBudget,
  readVectorPage,
  taskCounts,
  VECTOR_DIMS,
  vectorSetState,
  type TaskCounts,
} from '@beanstalk/db';
import {
  anomalyCalibration,
  anomalyDistance,
  classificationReport,
  ReferenceSearch,
  selectForLabeling,
  stackRows,
  thresholdForPrecision,
  vote,
  type Strategy,
  type Vote,
} from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';
import { resumePoint } from './heartbeats.ts';
import { pipelinePages } from './pages.ts';
import { classIndex } from './heads.ts';

const ANOMALY_K = 5;

const stack = (rows: { vector: Float32Array }[]) =>
  stackRows(
    rows.map((r) => r.vector),
    VECTOR_DIMS,
  );

/** Labeled references of a head's set, with class indices, as kNN needs them. */
async function references(deps: ActivityDeps, headVersionId: string, projectId: string) {
  const { classes, indexOf } = await classIndex(deps.prisma, projectId);
  const rows = await readVectorPage(deps.pool, {
    headVersionId,
    splits: ['POOL'],
    labeled: true,
  });
  return {
    classes,
    indexOf,
    rows,
    matrix: stack(rows),
    labels: rows.map((r) => indexOf.get(r.labelClassId!)!),
  };
}

type References = Awaited<ReturnType<typeof references>>;

/** kNN votes of `queries` against the references; `leaveOut` skips each query's own row. */
async function votesAgainst(
  refs: References,
  queries: Float32Array,
  k: number,
  leaveOut = false,
): Promise<Vote[]> {
  const voter = await referenceVoter(refs, k, leaveOut);
  try {
    return await voter.votes(queries);
  } finally {
    await voter.release();
  }
}

/** votesAgainst for many pages of queries: the search over the references is built once. */
async function referenceVoter(refs: References, k: number, leaveOut = false) {
  const search = await ReferenceSearch.create(refs.matrix, VECTOR_DIMS, k + (leaveOut ? 1 : 0));
  return {
    async votes(queries: Float32Array): Promise<Vote[]> {
      const { index, distance } = await search.search(queries);
      const per = search.neighbours;
      return Array.from({ length: queries.length / VECTOR_DIMS }, (_, q) => {
        const neighbours = [];
        for (let j = leaveOut ? 1 : 0; j < per; j++) {
          neighbours.push({
            classIndex: refs.labels[index[q * per + j]!]!,
            distance: distance[q * per + j]!,
          });
        }
        return vote(neighbours, refs.classes.length);
      });
    },
    release: () => search.release(),
  };
}

export interface RoundSettings {
  roundId: string;
  number: number;
  projectId: string;
  activeHeadVersionId: string | null;
  roundSize: number;
  k: number;
  autoAcceptEnabled: boolean;
  autoAcceptPrecisionTarget: number;
  promotionTolerance: number;
  taskLeaseSeconds: number;
  targetMacroF1: number | null;
}

export interface Evaluation {
  headVersionId: string;
  macroF1: number;
  accuracy: number;
  evaluated: number;
  truth: 'labels' | 'hidden';
}

/** Activities for the orchestration queue: database work and light in-memory kNN. */
export function createRoundActivities(deps: ActivityDeps) {
  const { prisma, pool } = deps;

  return {
    /** Creates the round row for a workflow, or returns it when the workflow retries. */
    async openRound(input: {
      projectId: string;
      workflowId: string;
      campaignId?: string | null;
    }): Promise<RoundSettings> {
      return surfacing(async () => {
        const project = await prisma.project.findUnique({ where: { id: input.projectId } });
        if (!project) throw new AppError('NOT_FOUND', `project ${input.projectId} does not exist`);
        let round = await prisma.round.findUnique({ where: { workflowId: input.workflowId } });
        if (!round) {
          const last = await prisma.round.aggregate({
            where: { projectId: project.id },
            _max: { number: true },
          });
          round = await prisma.round.create({
            data: {
              projectId: project.id,
              campaignId: input.campaignId ?? null,
              workflowId: input.workflowId,
              number: (last._max.number ?? 0) + 1,
            },
          });
        }
        return {
          roundId: round.id,
          number: round.number,
          projectId: project.id,
          activeHeadVersionId: project.activeHeadVersionId,
          roundSize: project.roundSize,
          k: project.k,
          autoAcceptEnabled: project.autoAcceptEnabled,
          autoAcceptPrecisionTarget: project.autoAcceptPrecisionTarget,
          promotionTolerance: project.promotionTolerance,
          taskLeaseSeconds: project.taskLeaseSeconds,
          targetMacroF1: project.targetMacroF1,
        };
      });
    },

    async setRoundStatus(input: {
      roundId: string;
      status: 'SCORING' | 'SELECTING' | 'LABELING' | 'TRAINING' | 'REINDEXING' | 'EVALUATING';
    }): Promise<void> {
      await prisma.round.update({ where: { id: input.roundId }, data: { status: input.status } });
    },

    /**
     * Scores every unlabeled pool item with the head's kNN vote (k nearest labeled
     * references) and an anomaly score calibrated on the normal classes' references; stored
     * as predictions keyed by (head, item). Pages in item order; a retry resumes after the
     * last page reported.
     */
    async scorePool(input: {
      roundId: string;
      headVersionId: string;
      k: number;
      pageSize?: number;
    }): Promise<number> {
      return surfacing(async () => {
        const head = await prisma.headVersion.findUniqueOrThrow({
          where: { id: input.headVersionId },
        });
        const refs = await references(deps, head.id, head.projectId);
        if (refs.rows.length === 0) return 0;
        const normal = refs.rows.filter((r, i) => refs.classes[refs.labels[i]!]!.isNormal);
        const normalMatrix = stack(normal);
        // One search serves both uses: the calibration skips each reference's own row.
        const normalSearch = await ReferenceSearch.create(normalMatrix, VECTOR_DIMS, ANOMALY_K + 1);
        const voter = await referenceVoter(refs, input.k);
        const normalDistances = async (queries: Float32Array, leaveOut: boolean) => {
          const { distance } = await normalSearch.search(queries);
          const per = normalSearch.neighbours;
          const end = leaveOut ? per : Math.min(per, ANOMALY_K);
          return Array.from({ length: queries.length / VECTOR_DIMS }, (_, q) =>
            anomalyDistance(
              Array.from(distance.subarray(q * per + (leaveOut ? 1 : 0), q * per + end), (d) => ({
                classIndex: 0,
                distance: d,
              })),
              ANOMALY_K,
            ),
          );
        };
        const resume = resumePoint<{ after: string; scored: number }>();
        let scored = resume?.scored ?? 0;
        const total = await prisma.itemVector.count({
          where: { headVersionId: head.id, split: 'POOL', labelClassId: null },
        });
        try {
          const calibrate = anomalyCalibration(
            normal.length > ANOMALY_K ? await normalDistances(normalMatrix, true) : [],
          );
          await pipelinePages(resume?.after ?? null, {
            read: (after) =>
              readVectorPage(pool, {
                headVersionId: head.id,
                splits: ['POOL'],
                labeled: false,
                after,
                limit: input.pageSize ?? 5000,
              }),
            compute: async (page) => {
              const queries = stack(page);
              return {
                votes: await voter.votes(queries),
                anomaly: normal.length ? await normalDistances(queries, false) : page.map(() => 2),
              };
            },
            write: async (page, { votes, anomaly }) => {
              await pool.query(
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
                  head.id,
                  input.roundId,
                  JSON.stringify(
                    page.map((item, j) => ({
                      item_id: item.itemId,
                      label_class_id: refs.classes[votes[j]!.predicted]!.id,
                      confidence: votes[j]!.confidence,
                      margin: votes[j]!.margin,
                      entropy: votes[j]!.entropy,
                      anomaly_score: calibrate(anomaly[j]!),
                      probabilities: Array.from(votes[j]!.probabilities),
                    })),
                  ),
                ],
              );
              scored += page.length;
              heartbeat({ after: page.at(-1)!.itemId, scored, total });
            },
          });
        } finally {
          await voter.release();
          await normalSearch.release();
        }
        return scored;
      });
    },

    /**
     * Picks up to `count` unlabeled pool items for human labels, never more than the budget
     * left, and opens a task for each (reserving budget). With a head: the least certain
     * predictions, spread out by k-center greedy; without one (cold start): a pseudo-random
     * sample keyed by image content and round number, the same for the same images. A retry
     * returns the tasks already opened for the round.
     */
    async openTasks(input: {
      roundId: string;
      headVersionId: string | null;
      count: number;
      strategy: Strategy;
    }): Promise<{ asked: number; budgetLeft: number }> {
      return surfacing(async () => {
        const round = await prisma.round.findUniqueOrThrow({ where: { id: input.roundId } });
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await lockProjectBudget(client, round.projectId);
          const existing = await client.query('SELECT 1 FROM label_tasks WHERE round_id = $1', [
            round.id,
          ]);
          if (existing.rowCount) {
            await client.query('COMMIT');
            const budget = await budgetOf(pool, round.projectId);
            return { asked: existing.rowCount, budgetLeft: budget.remaining };
          }
          const budget = await budgetOf(client, round.projectId);
          const take = Math.min(input.count, budget.remaining);
          const free = `NOT EXISTS (SELECT 1 FROM current_labels cl
                                     WHERE cl.item_id = i.id AND cl.label_class_id IS NOT NULL)
                        AND NOT EXISTS (SELECT 1 FROM label_tasks t WHERE t.item_id = i.id
                                         AND t.status IN ('OPEN', 'CLAIMED', 'DONE'))`;
          let chosen: string[] = [];
          if (take > 0 && input.headVersionId && input.strategy !== 'random') {
            const candidates = await client.query<{
              item_id: string;
              confidence: number;
              margin: number;
              entropy: number;
              embedding: string;
            }>(
              `SELECT p.item_id, p.confidence, p.margin, p.entropy, v.embedding::text AS embedding
                 FROM predictions p
                 JOIN items i ON i.id = p.item_id AND i.split = 'POOL'
                 JOIN item_vectors v ON v.head_version_id = p.head_version_id
                                     AND v.item_id = p.item_id
                WHERE p.head_version_id = $1 AND ${free}
                ORDER BY p.margin, p.item_id LIMIT $2`,
              [input.headVersionId, take * 10],
            );
            const rows = candidates.rows;
            chosen = selectForLabeling(rows, take, input.strategy, {
              seed: round.number,
              embeddings: rows.map((r) => JSON.parse(r.embedding) as number[]),
            }).map((i) => rows[i]!.item_id);
          }
          if (chosen.length < take) {
            const random = await client.query<{ id: string }>(
              `SELECT i.id FROM items i
                WHERE i.project_id = $1 AND i.split = 'POOL' AND ${free}
                  AND i.id <> ALL($3::uuid[])
                ORDER BY md5(i.content_hash || $2), i.id LIMIT $4`,
              [round.projectId, String(round.number), chosen, take - chosen.length],
            );
            chosen.push(...random.rows.map((r) => r.id));
          }
          // The first chosen gets the highest priority, so it is asked first.
          await client.query(
            `INSERT INTO label_tasks (project_id, round_id, item_id, priority)
             SELECT $1, $2, x.item_id, $4 - x.ord
               FROM unnest($3::uuid[]) WITH ORDINALITY AS x(item_id, ord)
             ON CONFLICT (round_id, item_id) DO NOTHING`,
            [round.projectId, round.id, chosen, chosen.length],
          );
          await client.query('UPDATE rounds SET budget_asked = $2 WHERE id = $1', [
            round.id,
            chosen.length,
          ]);
          await client.query('COMMIT');
          return { asked: chosen.length, budgetLeft: budget.remaining - chosen.length };
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        } finally {
          client.release();
        }
      });
    },

    /**
     * Auto-accepts confident predictions: the confidence threshold that reaches the precision
     * target on held-out human labels (each scored leave-one-out against the others), applied
     * to the head's pool predictions. Auto labels never outnumber human ones, carry round and
     * confidence, and are only added to unlabeled items.
     */
    async autoAccept(input: {
      roundId: string;
      headVersionId: string;
      k: number;
      precisionTarget: number;
    }): Promise<{ threshold: number | null; accepted: number; reason: string }> {
      return surfacing(async () => {
        const round = await prisma.round.findUniqueOrThrow({ where: { id: input.roundId } });
        const already = await prisma.label.count({
          where: { roundId: round.id, source: 'AUTO' },
        });
        if (already > 0) {
          return { threshold: round.autoThreshold, accepted: already, reason: 'already done' };
        }
        const refs = await references(deps, input.headVersionId, round.projectId);
        const human = refs.rows
          .map((r, i) => ({ r, i }))
          .filter(({ r }) => r.labelSource !== 'AUTO');
        const humanRefs: References = {
          ...refs,
          rows: human.map((h) => h.r),
          matrix: stack(human.map((h) => h.r)),
          labels: human.map((h) => refs.labels[h.i]!),
        };
        const votes = await votesAgainst(humanRefs, humanRefs.matrix, input.k, true);
        const choice = thresholdForPrecision(
          votes.map((v) => v.confidence),
          votes.map((v, j) => v.predicted === humanRefs.labels[j]),
          input.precisionTarget,
        );
        if (!Number.isFinite(choice.threshold)) {
          return {
            threshold: null,
            accepted: 0,
            reason: `no threshold reaches precision ${input.precisionTarget} on ${human.length} human labels`,
          };
        }
        const autoNow = refs.rows.length - human.length;
        const cap = Math.max(0, human.length - autoNow);
        const candidates = await pool.query<{
          item_id: string;
          label_class_id: string;
          confidence: number;
        }>(
          `SELECT p.item_id, p.label_class_id, p.confidence FROM predictions p
             JOIN items i ON i.id = p.item_id AND i.split = 'POOL'
            WHERE p.head_version_id = $1 AND p.confidence >= $2
              AND NOT EXISTS (SELECT 1 FROM current_labels cl WHERE cl.item_id = p.item_id)
              AND NOT EXISTS (SELECT 1 FROM label_tasks t WHERE t.item_id = p.item_id
                               AND t.status IN ('OPEN', 'CLAIMED'))
            ORDER BY p.confidence DESC, p.item_id LIMIT $3`,
          [input.headVersionId, choice.threshold, cap],
        );
        let accepted = 0;
        for (const c of candidates.rows) {
          try {
            await appendLabel(pool, {
              projectId: round.projectId,
              itemId: c.item_id,
              labelClassId: c.label_class_id,
              source: 'AUTO',
              roundId: round.id,
              confidence: c.confidence,
              reason: `kNN confidence ${c.confidence.toFixed(3)} >= ${choice.threshold.toFixed(3)} (precision target ${input.precisionTarget})`,
              supersedesId: null,
            });
            accepted++;
          } catch (error) {
            // A human labeled it meanwhile: theirs stands.
            if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
          }
        }
        await prisma.round.update({
          where: { id: round.id },
          data: { autoAccepted: accepted, autoThreshold: choice.threshold },
        });
        return {
          threshold: choice.threshold,
          accepted,
          reason: `threshold ${choice.threshold.toFixed(3)} from ${human.length} human labels`,
        };
      });
    },

    /** Expires claimed tasks past their lease; returns the round's task counts. */
    async checkTasks(input: { roundId: string }): Promise<TaskCounts & { expiredNow: number }> {
      const expiredNow = await expireTasks(pool, input.roundId);
      const counts = await taskCounts(pool, input.roundId);
      await prisma.round.update({
        where: { id: input.roundId },
        data: { labelsReceived: counts.done },
      });
      return { ...counts, expiredNow };
    },

    /** Ends the labeling phase: tasks still open or claimed expire, releasing their budget. */
    async expireUnfinishedTasks(input: { roundId: string }): Promise<number> {
      return expireTasks(pool, input.roundId, { allOpen: true });
    },

    /**
     * kNN macro-F1 of a head on the eval split, references = the labeled pool items in its
     * set. Truth is the eval items' labels; a simulation project without them (Fashion-MNIST
     * demo) uses its hidden truth, and the snapshot says which.
     */
    async evaluateHead(input: {
      roundId: string;
      headVersionId: string;
      k: number;
      store: boolean;
    }): Promise<Evaluation> {
      return surfacing(async () => {
        const head = await prisma.headVersion.findUniqueOrThrow({
          where: { id: input.headVersionId },
        });
        const refs = await references(deps, head.id, head.projectId);
        const evalRows = await readVectorPage(pool, { headVersionId: head.id, splits: ['EVAL'] });
        const labeled = evalRows.filter((r) => r.labelClassId && r.labelSource !== 'AUTO');
        let truthRows: { row: (typeof evalRows)[number]; classId: string }[];
        let truth: Evaluation['truth'] = 'labels';
        if (labeled.length > 0) {
          truthRows = labeled.map((row) => ({ row, classId: row.labelClassId! }));
        } else {
          truth = 'hidden';
          const hidden = await prisma.hiddenTruth.findMany({
            where: { itemId: { in: evalRows.map((r) => r.itemId) } },
          });
          const byItem = new Map(hidden.map((h) => [h.itemId, h.labelClassId]));
          truthRows = evalRows.flatMap((row) =>
            byItem.has(row.itemId) ? [{ row, classId: byItem.get(row.itemId)! }] : [],
          );
        }
        if (truthRows.length === 0 || refs.rows.length === 0) {
          throw new AppError(
            'BAD_USER_INPUT',
            'nothing to evaluate: the eval split needs labeled items and the pool labeled references',
          );
        }
        const votes = await votesAgainst(refs, stack(truthRows.map((t) => t.row)), input.k);
        const report = classificationReport(
          truthRows.map((t) => refs.indexOf.get(t.classId)!),
          votes.map((v) => v.predicted),
          refs.classes.length,
        );
        if (input.store) {
          const humanLabels = await prisma.label.count({
            where: { projectId: head.projectId, source: 'HUMAN' },
          });
          const exists = await prisma.metricSnapshot.findFirst({
            where: { roundId: input.roundId, headVersionId: head.id },
          });
          if (!exists) {
            await prisma.metricSnapshot.create({
              data: {
                projectId: head.projectId,
                roundId: input.roundId,
                headVersionId: head.id,
                split: 'EVAL',
                humanLabels,
                macroF1: report.macroF1,
                microF1: report.microF1,
                accuracy: report.accuracy,
                details: {
                  truth,
                  evaluated: truthRows.length,
                  references: refs.rows.length,
                  classes: refs.classes.map((c) => c.name),
                  perClass: report.perClass,
                  confusion: report.confusion,
                } as object,
              },
            });
          }
        }
        return {
          headVersionId: head.id,
          macroF1: report.macroF1,
          accuracy: report.accuracy,
          evaluated: truthRows.length,
          truth,
        };
      });
    },

    /**
     * Makes the candidate head active (atomic vector-set swap) unless it is worse than the
     * active head by more than the tolerance; says why either way.
     */
    async promoteHead(input: {
      roundId: string;
      candidate: Evaluation;
      active: Evaluation | null;
      tolerance: number;
    }): Promise<{ promoted: boolean; reason: string }> {
      return surfacing(async () => {
        const head = await prisma.headVersion.findUniqueOrThrow({
          where: { id: input.candidate.headVersionId },
        });
        const project = await prisma.project.findUniqueOrThrow({ where: { id: head.projectId } });
        if (project.activeHeadVersionId === head.id) {
          return { promoted: true, reason: head.note ?? 'already active' };
        }
        const f = (x: number) => x.toFixed(4);
        const worse =
          input.active && input.candidate.macroF1 < input.active.macroF1 - input.tolerance;
        if (worse) {
          const reason = `kept the active head: eval macro-F1 ${f(input.candidate.macroF1)} is below ${f(input.active!.macroF1)} minus tolerance ${input.tolerance}`;
          await prisma.headVersion.update({
            where: { id: head.id },
            data: { status: 'RETIRED', retiredAt: new Date(), note: reason },
          });
          await dropVectorSet(pool, head.id);
          return { promoted: false, reason };
        }
        const reason = input.active
          ? `eval macro-F1 ${f(input.candidate.macroF1)} vs ${f(input.active.macroF1)} for the active head (tolerance ${input.tolerance})`
          : `first head: eval macro-F1 ${f(input.candidate.macroF1)}`;
        const previous = await activateVectorSet(pool, head.projectId, head.id);
        await prisma.headVersion.update({
          where: { id: head.id },
          data: {
            status: 'ACTIVE',
            promotedAt: new Date(),
            note: reason,
            metrics: { ...(head.metrics as object), eval: { ...input.candidate } },
          },
        });
        if (previous) {
          await prisma.headVersion.update({
            where: { id: previous },
            data: { status: 'RETIRED', retiredAt: new Date() },
          });
        }
        return { promoted: true, reason };
      });
    },

    /**
     * Ends a round: unfinished tasks expire (budget released, items back in the pool); when
     * cancelled, a trained but not promoted head's vector set is dropped so nothing is left
     * half-built.
     */
    async closeRound(input: {
      roundId: string;
      status: 'COMPLETED' | 'CANCELLED' | 'FAILED';
      note?: string;
    }): Promise<TaskCounts> {
      const expired = await expireTasks(pool, input.roundId, { allOpen: true });
      const round = await prisma.round.findUniqueOrThrow({
        where: { id: input.roundId },
        include: { headVersion: true, project: true },
      });
      const head = round.headVersion;
      if (input.status !== 'COMPLETED' && head && round.project.activeHeadVersionId !== head.id) {
        if ((await vectorSetState(pool, head.id)) !== 'missing') await dropVectorSet(pool, head.id);
        await prisma.headVersion.update({
          where: { id: head.id },
          data: {
            status: 'RETIRED',
            retiredAt: new Date(),
            note: `round ${input.status.toLowerCase()}`,
          },
        });
      }
      const counts = await taskCounts(pool, input.roundId);
      await prisma.round.update({
        where: { id: input.roundId },
        data: {
          status: input.status,
          endedAt: new Date(),
          labelsReceived: counts.done,
          note:
            [input.note, expired ? `${expired} unfinished tasks expired` : null]
              .filter(Boolean)
              .join('; ') || null,
        },
      });
      return counts;
    },

    /** Registers a campaign; refused while another campaign of the project is running. */
    async openCampaign(input: { projectId: string; workflowId: string }): Promise<string> {
      return surfacing(async () => {
        const mine = await prisma.campaign.findUnique({ where: { workflowId: input.workflowId } });
        if (mine) return mine.id;
        const running = await prisma.campaign.findFirst({
          where: { projectId: input.projectId, status: 'RUNNING' },
        });
        if (running) {
          throw new AppError(
            'CONFLICT',
            `project ${input.projectId} already has a running campaign (${running.workflowId})`,
          );
        }
        const created = await prisma.campaign.create({
          data: { projectId: input.projectId, workflowId: input.workflowId },
        });
        return created.id;
      });
    },

    /** Budget left and the latest eval macro-F1 of the active head, for the stop rules. */
    async campaignState(input: { projectId: string }): Promise<{
      budgetLeft: number;
      macroF1: number | null;
      targetMacroF1: number | null;
    }> {
      const project = await prisma.project.findUniqueOrThrow({ where: { id: input.projectId } });
      const budget = await budgetOf(pool, project.id);
      const latest = project.activeHeadVersionId
        ? await prisma.metricSnapshot.findFirst({
            where: { headVersionId: project.activeHeadVersionId },
            orderBy: { createdAt: 'desc' },
          })
        : null;
      return {
        budgetLeft: budget.remaining,
        macroF1: latest?.macroF1 ?? null,
        targetMacroF1: project.targetMacroF1,
      };
    },

    async closeCampaign(input: {
      campaignId: string;
      status: 'COMPLETED' | 'CANCELLED' | 'FAILED';
      reason: string;
    }): Promise<void> {
      await prisma.campaign.update({
        where: { id: input.campaignId },
        data: { status: input.status, stopReason: input.reason, endedAt: new Date() },
      });
    },
  };
}

export type RoundActivities = ReturnType<typeof createRoundActivities>;
