'use client';

import { useState } from 'react';
import { graphql } from '../generated/gql.ts';
import { call } from '../lib/client.ts';
import { useAction } from '../lib/use-action.tsx';

const StartCampaign = graphql(`
  mutation StartCampaign($slug: String!) {
    startCampaign(project: $slug) {
      workflowId
    }
  }
`);
const CancelCampaign = graphql(`
  mutation CancelCampaign($slug: String!) {
    cancelCampaign(project: $slug)
  }
`);
const Promote = graphql(`
  mutation Promote($id: ID!) {
    promoteHeadVersion(id: $id) {
      id
    }
  }
`);
const Rollback = graphql(`
  mutation Rollback($slug: String!) {
    rollbackHeadVersion(project: $slug) {
      id
    }
  }
`);

export function CampaignControls({
  slug,
  campaign,
}: {
  slug: string;
  campaign: { status: string; stopReason?: string | null } | null | undefined;
}) {
  const { busy, run, note } = useAction();
  const running = campaign?.status === 'RUNNING';
  return (
    <div className="actions">
      <span>
        Campaign: {campaign ? campaign.status.toLowerCase() : 'none yet'}
        {campaign?.stopReason ? ` (${campaign.stopReason})` : ''}
      </span>
      {running ? (
        <button
          type="button"
          disabled={busy}
          onClick={() => run(() => call(CancelCampaign, { slug }), 'Cancel requested.')}
        >
          Cancel campaign
        </button>
      ) : (
        <button
          type="button"
          disabled={busy}
          onClick={() => run(() => call(StartCampaign, { slug }), 'Campaign started.')}
        >
          Start campaign
        </button>
      )}
      {note}
    </div>
  );
}

interface Head {
  id: string;
  kind: string;
  status: string;
  note?: string | null;
  roundNumber?: number | null;
  macroF1?: number | null;
  createdAt: string;
  active: boolean;
  searchIndex: 'NONE' | 'BUILDING' | 'READY';
}

/** Which head answers similar-image searches, and how far the active head's index is. */
function searchCell(h: Head, searchHeadId: string | null): string {
  if (h.id === searchHeadId) return h.searchIndex === 'READY' ? 'answering' : 'answering (exact)';
  if (h.active) return h.searchIndex === 'READY' ? 'ready' : 'index being built';
  return h.searchIndex === 'READY' ? 'ready' : '—';
}

export function ModelActions({
  slug,
  heads,
  searchHeadId,
}: {
  slug: string;
  heads: Head[];
  searchHeadId: string | null;
}) {
  const { busy, run, note } = useAction();
  if (heads.length === 0) return <p>No head versions yet.</p>;
  return (
    <>
      <table>
        <thead>
          <tr>
            <th scope="col">Head</th>
            <th scope="col">Round</th>
            <th scope="col">Eval macro-F1</th>
            <th scope="col">Status</th>
            <th scope="col">Similar-image search</th>
            <th scope="col">Why</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {heads.map((h) => (
            <tr key={h.id}>
              <th scope="row">
                {h.kind.toLowerCase()} {h.id.slice(0, 8)}
              </th>
              <td>{h.roundNumber ?? '—'}</td>
              <td>{h.macroF1 != null ? h.macroF1.toFixed(3) : '—'}</td>
              <td>{h.active ? 'active' : h.status.toLowerCase()}</td>
              <td data-testid={h.active ? 'active-head-search' : undefined}>
                {searchCell(h, searchHeadId)}
              </td>
              <td>{h.note ?? ''}</td>
              <td>
                {!h.active && (
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => run(() => call(Promote, { id: h.id }), 'Promoted.')}
                  >
                    Promote
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button
        type="button"
        disabled={busy}
        onClick={() => run(() => call(Rollback, { slug }), 'Rolled back.')}
      >
        Roll back to the previous head
      </button>
      {note}
    </>
  );
}

const AddBudget = graphql(`
  mutation AddBudget($slug: String!, $amount: Int!, $reason: String!) {
    addBudget(project: $slug, amount: $amount, reason: $reason) {
      total
    }
  }
`);

/** Adds labels to the budget (a ledger entry with its reason). */
export function AddBudgetForm({ slug }: { slug: string }) {
  const { busy, run, note } = useAction();
  const [amount, setAmount] = useState('500');
  const [reason, setReason] = useState('labeling budget');
  return (
    <form
      className="actions"
      aria-label="Add to the budget"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => call(AddBudget, { slug, amount: Number(amount), reason }), 'Budget added.');
      }}
    >
      <label>
        Labels to add{' '}
        <input
          type="number"
          min={1}
          step={1}
          required
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
        />
      </label>
      <label>
        Reason <input required value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <button type="submit" disabled={busy}>
        Add budget
      </button>
      {note}
    </form>
  );
}
