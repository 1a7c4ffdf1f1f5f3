'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useRef } from 'react';
import { graphql } from '../generated/gql.ts';
import { useSubscription } from '../lib/live.ts';

const BudgetChanges = graphql(`
  subscription BudgetChanges($slug: String!) {
    budgetUpdated(project: $slug) {
      total
      spent
      reserved
    }
  }
`);

const CampaignChanges = graphql(`
  subscription CampaignChanges($slug: String!) {
    campaignUpdated(project: $slug) {
      id
      status
    }
  }
`);

/** At most one refresh this often, however fast labels arrive. */
const MIN_INTERVAL_MS = 2_000;

/**
 * Renders a server page anew when the project's budget or campaign changes (labels given,
 * budget added, a campaign started or ended), instead of polling. The first update of each
 * subscription is the state the page was rendered with, and is skipped.
 */
export function LiveRefresh({ slug }: { slug: string }) {
  const router = useRouter();
  const seen = useRef({ budget: false, campaign: false });
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const changed = (what: 'budget' | 'campaign') => {
    if (!seen.current[what]) {
      seen.current[what] = true;
      return;
    }
    if (timer.current) return;
    const wait = Math.max(0, last.current + MIN_INTERVAL_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      router.refresh();
    }, wait);
  };
  useSubscription(BudgetChanges, { slug }, () => changed('budget'));
  useSubscription(CampaignChanges, { slug }, () => changed('campaign'));
  return null;
}
