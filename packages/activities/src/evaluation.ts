import { VECTOR_DIMS } from '@beanstalk/db';
import { classificationReport, stackRows } from '@beanstalk/ml';
import { catchUpVectorSet, loadReferences, scorerFor } from '@beanstalk/model-runtime';
import { AppError } from '@beanstalk/shared';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

export interface Evaluation {
  headVersionId: string;
  macroF1: number;
  accuracy: number;
  evaluated: number;
  truth: 'labels' | 'hidden';
}

/** Measures a candidate head against the active one and promotes the better. */
export function createEvaluationActivities({ db }: ActivityDeps) {
  return {
    /**
     * kNN macro-F1 of a head on the eval split, references = the labeled pool items in its
     * set. Truth is the eval items' labels; a simulation project without them (Fashion-MNIST
     * demo) uses its hidden truth, and the snapshot says which.
     */
    evaluateHead(input: {
      roundId: string;
      headVersionId: string;
      k: number;
      store: boolean;
    }): Promise<Evaluation> {
      return surfacing(async () => {
        const head = await db.heads.get(input.headVersionId);
        const set = await loadReferences(db, {
          headVersionId: head.id,
          projectId: head.projectId,
        });
        const evalRows = await db.vectorSets.readPage({ headVersionId: head.id, splits: ['EVAL'] });
        const labeled = evalRows.filter((r) => r.labelClassId && r.labelSource !== 'AUTO');
        let truthRows: { row: (typeof evalRows)[number]; classId: string }[];
        let truth: Evaluation['truth'] = 'labels';
        if (labeled.length > 0) {
          truthRows = labeled.map((row) => ({ row, classId: row.labelClassId! }));
        } else {
          truth = 'hidden';
          const hidden = await db.items.hiddenTruth(evalRows.map((r) => r.itemId));
          truthRows = evalRows.flatMap((row) =>
            hidden.has(row.itemId) ? [{ row, classId: hidden.get(row.itemId)! }] : [],
          );
        }
        if (truthRows.length === 0 || set.rows.length === 0) {
          throw new AppError(
            'BAD_USER_INPUT',
            'nothing to evaluate: the eval split needs labeled items and the pool labeled references',
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
        if (active && candidate.macroF1 < active.macroF1 - tolerance) {
          const reason = `kept the active head: eval macro-F1 ${f(candidate.macroF1)} is below ${f(active.macroF1)} minus tolerance ${tolerance}`;
          await db.heads.retire(head.id, reason);
          await db.vectorSets.drop(head.id);
          return { promoted: false, reason };
        }
        const reason = active
          ? `eval macro-F1 ${f(candidate.macroF1)} vs ${f(active.macroF1)} for the active head (tolerance ${tolerance})`
          : `first head: eval macro-F1 ${f(candidate.macroF1)}`;
        await db.heads.promote(head.id, { note: reason, evaluation: candidate });
        // New items embedded into the previous set while this one was built are added now.
        await catchUpVectorSet(db, head.id);
        return { promoted: true, reason };
      });
    },
  };
}
