import { heartbeat } from '@temporalio/activity';
import {
  ImageDecodeError,
  NEAR_DUPLICATE_DISTANCE,
  nearDuplicateGroups,
  nearDuplicatePairs,
  SIGNATURE_DIMS,
  signatureOf,
  stackRows,
} from '@beanstalk/ml';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

/** The most recent items a check compares new ones with (1 KiB of memory each). */
export const MAX_DUPLICATE_CHECK_ITEMS = 200_000;
const PAGE = 5000;

export interface NearDuplicateCheck {
  /** Items looked at for the first time. */
  checked: number;
  /** Of them (and of earlier items they pair with), how many were newly marked. */
  marked: number;
}

/** After an ingest: which new items nearly duplicate an earlier one (gpu queue). */
export function createNearDuplicateActivities({ db, blobs }: ActivityDeps) {
  /** Signatures of the project's items that have none yet (unreadable ones are passed over). */
  async function signMissing(projectId: string) {
    let signed = 0;
    for (let after: string | null = null; ;) {
      const page = await db.items.withoutSignature({ projectId, after, limit: 500 });
      if (page.length === 0) return signed;
      const rows = [];
      for (const item of page) {
        try {
          const bytes = await blobs.get(item.blobKey);
          rows.push({
            itemId: item.id,
            signature: await signatureOf({ name: `item ${item.id}`, bytes }),
          });
        } catch (error) {
          // The ingest reports undecodable images; here they simply have no signature.
          if (!(error instanceof ImageDecodeError)) throw error;
        }
      }
      await db.items.setSignatures(rows);
      signed += rows.length;
      after = page.at(-1)!.id;
      heartbeat({ signed });
    }
  }

  return {
    /**
     * Gives new items their signature, then compares the items no check has looked at with
     * the project's newest MAX_DUPLICATE_CHECK_ITEMS; pairs within NEAR_DUPLICATE_DISTANCE join
     * groups, and every later member of a group is marked a near-duplicate of its earliest.
     * Idempotent: a retry finds the same.
     */
    markNearDuplicates(input: { projectId: string }): Promise<NearDuplicateCheck> {
      return surfacing(async () => {
        await signMissing(input.projectId);
        // A re-run with nothing new does not load the whole project's signatures.
        if (!(await db.items.hasUncheckedSignatures(input.projectId))) {
          return { checked: 0, marked: 0 };
        }
        const rows: Awaited<ReturnType<typeof db.items.signaturePage>> = [];
        for (let after = null; ;) {
          const page: typeof rows = await db.items.signaturePage({
            projectId: input.projectId,
            newest: MAX_DUPLICATE_CHECK_ITEMS,
            after,
            limit: PAGE,
          });
          rows.push(...page);
          heartbeat({ loaded: rows.length });
          if (page.length < PAGE) break;
          after = { createdAt: page.at(-1)!.createdAt, itemId: page.at(-1)!.itemId };
        }
        const fresh = rows.flatMap((r, i) => (r.checked ? [] : [i]));
        if (fresh.length === 0) return { checked: 0, marked: 0 };
        const pairs = await nearDuplicatePairs(
          stackRows(
            rows.map((r) => r.signature),
            SIGNATURE_DIMS,
          ),
          SIGNATURE_DIMS,
          NEAR_DUPLICATE_DISTANCE,
          5,
          (done, total) => heartbeat({ searched: done, total }),
          fresh,
        );
        // Rows are oldest first, so a group's first row is its earliest item.
        const marks = nearDuplicateGroups(pairs).flatMap(([first, ...later]) =>
          later.map((r) => ({ itemId: rows[r]!.itemId, ofId: rows[first!]!.itemId })),
        );
        const marked = await db.items.markNearDuplicates({
          projectId: input.projectId,
          marks,
          checkedIds: fresh.map((i) => rows[i]!.itemId),
        });
        return { checked: fresh.length, marked };
      });
    },
  };
}
