import { VECTOR_DIMS } from '@beanstalk/db';
import { classificationReport, minEvalLabels, stackRows } from '@beanstalk/ml';
import { catchUpVectorSet, loadReferences, scorerFor } from '@beanstalk/model-runtime';
import { AppError } from '@beanstalk/shared';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

export interface Evaluation {
  headVersionId: string;
  /** Null when there was nothing worth evaluating on (truth 'none'). */
  macroF1: number | null;
  accuracy: number | null;
  evaluated: number;
  /**
   * human: labels people gave or imported on eval items; simulated: a simulation project's
   * hidden ground truth, used only while it lacks enough of those; none: neither.
   */
  truth: 'human' | 'simulated' | 'none';
  /** Labeled eval items evaluation wants before it reads them (minEvalLabels). */
  needed: number;
}

/** Measures a candidate head against the active one and promotes the better. */
export function createEvaluationActivities({ db }: ActivityDeps) {
  return {
    /**
     * kNN macro-F1 of a head on the eval split, references = the labeled pool items in its
     * set. Truth is people's labels on eval items once there are `needed` of them (never a
     * sample of one). Before that a simulation project reads its hidden truth and says so; a
     * real project is not evaluated (truth 'none', no snapshot).
     */
    evaluateHead(input: {
      roundId: string;
      headVersionId: string;
      k: number;
      store: boolean;
    }): Promise<Evaluation> {
      return surfacing(async () => {
        const head = await db.heads.get(input.headVersionId);
        const [project, set, evalRows] = await Promise.all([
          db.projects.get(head.projectId),
          loadReferences(db, { headVersionId: head.id, projectId: head.projectId }),
          db.vectorSets.readPage({ headVersionId: head.id, splits: ['EVAL'] }),
        ]);
        const needed = minEvalLabels(set.classes.filter((c) => !c.retiredAt).length);
        const labeled = evalRows.filter((r) => r.labelClassId && r.labelSource !== 'AUTO');
        let truthRows: { row: (typeof evalRows)[number]; classId: string }[] = [];
        let truth: Evaluation['truth'] = 'none';
        if (labeled.length >= needed) {
          truth = 'human';
          truthRows = labeled.map((row) => ({ row, classId: row.labelClassId! }));
        } else if (project.simulation) {
          truth = 'simulated';
          const hidden = await db.items.hiddenTruth(evalRows.map((r) => r.itemId));
          truthRows = evalRows.flatMap((row) =>
            hidden.has(row.itemId) ? [{ row, classId: hidden.get(row.itemId)! }] : [],
          );
        }
        const unevaluated: Evaluation = {
          headVersionId: head.id,
          macroF1: null,
          accuracy: null,
          evaluated: 0,
          truth: 'none',
          needed,
        };
        if (truthRows.length === 0) return unevaluated;
        if (set.rows.length === 0) {
          throw new AppError(
            'BAD_USER_INPUT',
            'nothing to evaluate: the pool has no labeled references',
          );
        }
        const scorer = await scorerFor(set, { k: input.k });
        const votes = await scorer
          .votes(
            stackRows(
              truthRows.map((t) => t.row.vector),
              VECTOR_DIMS,
            ),
          )
          .finally(() => scorer.release());
        const indexOf = new Map(set.classes.map((c, i) => [c.id, i]));
        const report = classificationReport(
          truthRows.map((t) => indexOf.get(t.classId)!),
          votes.map((v) => v.predicted),
          set.classes.length,
        );
        if (input.store) {
          await db.metrics.recordOnce({
            projectId: head.projectId,
            roundId: input.roundId,
            headVersionId: head.id,
            split: 'EVAL',
            humanLabels: await db.labels.countHuman(head.projectId),
            macroF1: report.macroF1,
            microF1: report.microF1,
            accuracy: report.accuracy,
            details: {
              truth,
              evaluated: truthRows.length,
              evalLabels: labeled.length,
              needed,
              references: set.rows.length,
              classes: set.classes.map((c) => c.name),
              perClass: report.perClass,
              confusion: report.confusion,
            },
          });
        }
        return {
          headVersionId: head.id,
          macroF1: report.macroF1,
          accuracy: report.accuracy,
          evaluated: truthRows.length,
          truth,
          needed,
        };
      });
    },

    /**
     * Makes the candidate head active (an atomic vector-set swap, the same promotion a manager
     * makes, then the items embedded meanwhile are added) unless it is worse than the active
     * head by more than the tolerance; a rejected head is retired and its vector set dropped.
     * Says why either way.
     */
    promoteHead(input: {
      roundId: string;
      candidate: Evaluation;
      active: Evaluation | null;
      tolerance: number;
    }): Promise<{ promoted: boolean; reason: string }> {
      return surfacing(async () => {
        const head = await db.heads.get(input.candidate.headVersionId);
        const project = await db.projects.get(head.projectId);
        if (project.activeHeadVersionId === head.id) {
          // A retry after the swap: finish what the first attempt may not have.
          await catchUpVectorSet(db, head.id);
          return { promoted: true, reason: head.note ?? 'already active' };
        }
        const f = (x: number) => x.toFixed(4);
        const { candidate, active, tolerance } = input;
        if (candidate.macroF1 === null) {
          // Nothing to compare on: the head trained on more labels answers, and says why.
          const reason = `not evaluated: fewer than ${candidate.needed} eval items labeled by people; the newest head answers`;
          await db.heads.promote(head.id, { note: reason, evaluation: candidate });
          await catchUpVectorSet(db, head.id);
          return { promoted: true, reason };
        }
        if (active?.macroF1 != null && candidate.macroF1 < active.macroF1 - tolerance) {
          const reason = `kept the active head: eval macro-F1 ${f(candidate.macroF1)} is below ${f(active.macroF1)} minus tolerance ${tolerance}${candidate.truth === 'simulated' ? ' (simulated ground truth)' : ''}`;
          await db.heads.retire(head.id, reason);
          await db.vectorSets.drop(head.id);
          return { promoted: false, reason };
        }
        const truth = candidate.truth === 'simulated' ? ' (simulated ground truth)' : '';
        const reason =
          active?.macroF1 != null
            ? `eval macro-F1 ${f(candidate.macroF1)} vs ${f(active.macroF1)} for the active head (tolerance ${tolerance})${truth}`
            : `first head: eval macro-F1 ${f(candidate.macroF1)}${truth}`;
        await db.heads.promote(head.id, { note: reason, evaluation: candidate });
        // New items embedded into the previous set while this one was built are added now.
        await catchUpVectorSet(db, head.id);
        return { promoted: true, reason };
      });
    },
  };
}
