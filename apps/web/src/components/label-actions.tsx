'use client';

import { useState } from 'react';
import { graphql } from '../generated/gql.ts';
import { call } from '../lib/client.ts';

const Relabel = graphql(`
  mutation Relabel($itemId: ID!, $classId: ID!, $reason: String!) {
    relabel(itemId: $itemId, labelClassId: $classId, reason: $reason) {
      id
    }
  }
`);
const Revert = graphql(`
  mutation RevertAuto($itemId: ID!) {
    revertAutoLabel(itemId: $itemId, reason: "reverted in the explorer") {
      id
    }
  }
`);

export function RelabelForm({
  itemId,
  classes,
}: {
  itemId: string;
  classes: { id: string; name: string }[];
}) {
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        try {
          await call(Relabel, {
            itemId,
            classId: String(form.get('class')),
            reason: String(form.get('reason')),
          });
          window.location.reload();
        } catch (err) {
          setError((err as Error).message);
        }
      }}
    >
      <label>
        New label
        <select name="class" required defaultValue="">
          <option value="" disabled>
            choose…
          </option>
          {classes.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Reason
        <input name="reason" required minLength={3} placeholder="e.g. sleeve visible" />
      </label>
      <button type="submit">Relabel</button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}

export function RevertAutoLabel({ itemId }: { itemId: string }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <p>
      <button
        type="button"
        onClick={async () => {
          try {
            await call(Revert, { itemId });
            window.location.reload();
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        Revert the auto label
      </button>
      {error && (
        <span role="alert" className="error">
          {' '}
          {error}
        </span>
      )}
    </p>
  );
}
