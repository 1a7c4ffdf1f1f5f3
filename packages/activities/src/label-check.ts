import { heartbeat } from '@temporalio/activity';
import type { IssueCheckResult } from '@beanstalk/db';
import { findLabelIssues, LABEL_CHECK_K, outOfSampleVotes, stackRows } from '@beanstalk/ml';
import type { ActivityDeps } from './deps.ts';
import { encoderOf } from './embedding.ts';
import { surfacing } from './failures.ts';

/** The newest labels a check looks at; the search costs their square. */
export const MAX_CHECKED_LABELS = 20_000;

export interface LabelCheck extends IssueCheckResult {
  checked: number;
}

/** After a round: which labels people gave look wrong to their neighbours or to each other. */
export function createLabelCheckActivities({ db }: ActivityDeps) {
  return {
    /**
     * Checks the project's current human and imported labels (the newest MAX_CHECKED_LABELS)
     * by confident learning over leave-one-out kNN votes in the encoder's backbone space (not
     * the head's: the head was trained on these very labels) and stores the suspects as open
     * label issues for review, after the labels another person contradicts (disagreements).
     * Idempotent: a retry records the same findings.
     */
    checkLabels(input: { roundId: string }): Promise<LabelCheck> {
      return surfacing(async () => {
        const round = await db.rounds.get(input.roundId);
        const { encoderVersionId } = await encoderOf(db, round.projectId);
        const [{ classes, indexOf }, labels] = await Promise.all([
          db.classes.index(round.projectId),
          db.labels.forCheck(round.projectId, MAX_CHECKED_LABELS),
        ]);
        const features = await db.features.of(
          encoderVersionId,
          labels.map((l) => l.itemId),
        );
        const checked = labels.filter((l) => features.has(l.itemId));
        let found: Parameters<typeof db.labelIssues.record>[0]['found'] = [];
        if (
          checked.length > LABEL_CHECK_K &&
          new Set(checked.map((l) => l.labelClassId)).size > 1
        ) {
          const dims = features.get(checked[0]!.itemId)!.length;
          const given = Int32Array.from(checked, (l) => indexOf.get(l.labelClassId)!);
          const votes = await outOfSampleVotes(
            stackRows(
              checked.map((l) => features.get(l.itemId)!),
              dims,
            ),
            given,
            dims,
            LABEL_CHECK_K,
            classes.length,
            (done, total) => heartbeat({ done, total }),
          );
          found = findLabelIssues(votes, given, classes.length).map((issue) => ({
            labelId: checked[issue.index]!.labelId,
            itemId: checked[issue.index]!.itemId,
            suggestedClassId: classes[issue.suggested]!.id,
            score: issue.score,
            selfConfidence: issue.selfConfidence,
          }));
        }
        // People contradicting each other first: a neighbour check never downgrades those.
        const disagreements = await db.labelIssues.recordDisagreements(
          round.projectId,
          input.roundId,
        );
        const result = await db.labelIssues.record({
          projectId: round.projectId,
          roundId: input.roundId,
          found,
          checkedLabelIds: checked.map((l) => l.labelId),
        });
        return { ...result, opened: result.opened + disagreements, checked: checked.length };
      });
    },
  };
}
