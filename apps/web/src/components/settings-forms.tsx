'use client';

import { useState, type FormEvent } from 'react';
import { graphql } from '../generated/gql.ts';
import type { SelectionStrategy } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';
import { useAction } from '../lib/use-action.tsx';

const UpdateSettings = graphql(`
  mutation UpdateSettings($slug: String!, $input: ProjectSettingsInput!) {
    updateProjectSettings(project: $slug, input: $input) {
      id
    }
  }
`);
const AddClass = graphql(`
  mutation AddClass($slug: String!, $input: LabelClassInput!) {
    addLabelClass(project: $slug, input: $input) {
      id
    }
  }
`);
const UpdateClass = graphql(`
  mutation UpdateClass($id: ID!, $input: LabelClassUpdate!) {
    updateLabelClass(id: $id, input: $input) {
      id
    }
  }
`);
const RetireClass = graphql(`
  mutation RetireClass($id: ID!) {
    retireLabelClass(id: $id) {
      id
    }
  }
`);
const CreateKey = graphql(`
  mutation CreateKey($slug: String!, $name: String!, $role: Role!) {
    createApiKey(project: $slug, name: $name, role: $role) {
      secret
    }
  }
`);
const RevokeKey = graphql(`
  mutation RevokeKey($id: ID!) {
    revokeApiKey(id: $id) {
      id
    }
  }
`);

interface Settings {
  name: string;
  description: string;
  k: number;
  roundSize: number;
  autoAcceptEnabled: boolean;
  targetMacroF1?: number | null;
  promotionTolerance: number;
  taskLeaseSeconds: number;
  evalLabelTarget: number;
  skipNearDuplicates: boolean;
  linkNearDuplicates: boolean;
  secondOpinions: boolean;
  selectionStrategy: SelectionStrategy;
  goldRate: number;
  goldAccuracyWarning: number;
}

export function SettingsForm({ slug, settings }: { slug: string; settings: Settings }) {
  const { run, note } = useAction();
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const target = String(f.get('targetMacroF1') ?? '');
    void run(() =>
      call(UpdateSettings, {
        slug,
        input: {
          name: String(f.get('name')),
          description: String(f.get('description')),
          k: Number(f.get('k')),
          roundSize: Number(f.get('roundSize')),
          autoAcceptEnabled: f.get('autoAcceptEnabled') === 'on',
          targetMacroF1: target ? Number(target) : undefined,
          promotionTolerance: Number(f.get('promotionTolerance')),
          taskLeaseSeconds: Number(f.get('taskLeaseSeconds')),
          evalLabelTarget: Number(f.get('evalLabelTarget')),
          skipNearDuplicates: f.get('skipNearDuplicates') === 'on',
          linkNearDuplicates: f.get('linkNearDuplicates') === 'on',
          secondOpinions: f.get('secondOpinions') === 'on',
          selectionStrategy: f.get('selectionStrategy') as SelectionStrategy,
          // Percent in the form, a share in the API.
          goldRate: Number(f.get('goldPercent')) / 100,
          goldAccuracyWarning: Number(f.get('goldWarnPercent')) / 100,
        },
      }),
    );
  };
  return (
    <form className="inline-form" onSubmit={onSubmit}>
      <label>
        Name
        <input name="name" defaultValue={settings.name} required />
      </label>
      <label>
        Description
        <input name="description" defaultValue={settings.description} />
      </label>
      <label>
        Neighbours (k)
        <input name="k" type="number" min={1} max={100} defaultValue={settings.k} />
      </label>
      <label>
        Labels per round
        <input
          name="roundSize"
          type="number"
          min={1}
          max={10000}
          defaultValue={settings.roundSize}
        />
      </label>
      <label>
        Target macro-F1
        <input
          name="targetMacroF1"
          type="number"
          min={0}
          max={1}
          step={0.01}
          defaultValue={settings.targetMacroF1 ?? ''}
        />
      </label>
      <label>
        Rounds ask for
        <select name="selectionStrategy" defaultValue={settings.selectionStrategy}>
          <option value="TYPICLUST_MARGIN">
            Typical images first, then the least certain (the default)
          </option>
          <option value="TYPICLUST">Typical images of clusters not yet labeled</option>
          <option value="MARGIN">The least certain: smallest margin between two classes</option>
          <option value="MARGIN_DIVERSITY">The least certain, spread out</option>
          <option value="LEAST_CONFIDENCE">The least confident predictions</option>
          <option value="ENTROPY">The highest-entropy votes</option>
          <option value="RANDOM">A random sample</option>
        </select>
      </label>
      <label>
        Promotion tolerance
        <input
          name="promotionTolerance"
          type="number"
          min={0}
          max={0.5}
          step={0.001}
          defaultValue={settings.promotionTolerance}
        />
      </label>
      <label>
        Task lease (s)
        <input
          name="taskLeaseSeconds"
          type="number"
          min={10}
          max={86400}
          defaultValue={settings.taskLeaseSeconds}
        />
      </label>
      <label>
        Eval labels to ask for
        <input
          name="evalLabelTarget"
          type="number"
          min={0}
          max={100000}
          defaultValue={settings.evalLabelTarget}
          aria-describedby="eval-target-help"
        />
      </label>
      <p id="eval-target-help" className="muted">
        Rounds spend part of their labels on a random sample of eval images until this many are
        labeled: what quality figures and auto-accept are measured on.
      </p>
      <label>
        Gold questions (% of each annotator&rsquo;s tasks)
        <input
          name="goldPercent"
          type="number"
          min={0}
          max={50}
          step={1}
          defaultValue={Math.round(settings.goldRate * 100)}
          aria-describedby="gold-help"
        />
      </label>
      <label>
        Warn below gold accuracy (%)
        <input
          name="goldWarnPercent"
          type="number"
          min={0}
          max={100}
          step={1}
          defaultValue={Math.round(settings.goldAccuracyWarning * 100)}
          aria-describedby="gold-help"
        />
      </label>
      <p id="gold-help" className="muted">
        Gold questions are images of the gold split, whose label is known, mixed into the labeling
        queue and shown like any other task; answers are scored, never stored as labels, and do not
        count in the budget. The dashboard shows each person&rsquo;s accuracy on them.
      </p>
      <label className="checkbox">
        <input
          name="autoAcceptEnabled"
          type="checkbox"
          defaultChecked={settings.autoAcceptEnabled}
        />{' '}
        Auto-accept confident predictions
      </label>
      <label className="checkbox">
        <input
          name="skipNearDuplicates"
          type="checkbox"
          defaultChecked={settings.skipNearDuplicates}
        />{' '}
        Never ask for near-duplicates (images nearly the same as an earlier one)
      </label>
      <label className="checkbox">
        <input
          name="linkNearDuplicates"
          type="checkbox"
          defaultChecked={settings.linkNearDuplicates}
        />{' '}
        Link near-duplicates: labeling an image ticks the rest of its group to get the same label
      </label>
      <label className="checkbox">
        <input name="secondOpinions" type="checkbox" defaultChecked={settings.secondOpinions} />{' '}
        Second opinions: each round first asks someone else about images two people labeled
        differently
      </label>
      <button type="submit">Save settings</button>
      {note}
    </form>
  );
}

interface Cls {
  id: string;
  name: string;
  colour: string;
  hotkey?: string | null;
  isNormal: boolean;
  retired: boolean;
}

export function ClassEditor({ slug, classes }: { slug: string; classes: Cls[] }) {
  const { run, note } = useAction();
  return (
    <>
      <table>
        <thead>
          <tr>
            <th scope="col">Class</th>
            <th scope="col">Colour</th>
            <th scope="col">Hotkey</th>
            <th scope="col">Normal</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {classes.map((c) => (
            <tr key={c.id}>
              <th scope="row">
                <input
                  aria-label={`Name of ${c.name}`}
                  defaultValue={c.name}
                  disabled={c.retired}
                  onBlur={(e) =>
                    e.target.value !== c.name &&
                    void run(() => call(UpdateClass, { id: c.id, input: { name: e.target.value } }))
                  }
                />
              </th>
              <td>
                <input
                  type="color"
                  aria-label={`Colour of ${c.name}`}
                  defaultValue={c.colour}
                  disabled={c.retired}
                  onBlur={(e) =>
                    e.target.value !== c.colour &&
                    void run(() =>
                      call(UpdateClass, { id: c.id, input: { colour: e.target.value } }),
                    )
                  }
                />
              </td>
              <td>
                <input
                  aria-label={`Hotkey of ${c.name}`}
                  maxLength={1}
                  size={2}
                  defaultValue={c.hotkey ?? ''}
                  disabled={c.retired}
                  onBlur={(e) =>
                    e.target.value !== (c.hotkey ?? '') &&
                    void run(() =>
                      call(UpdateClass, { id: c.id, input: { hotkey: e.target.value } }),
                    )
                  }
                />
              </td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`${c.name} is normal`}
                  defaultChecked={c.isNormal}
                  disabled={c.retired}
                  onChange={(e) =>
                    void run(() =>
                      call(UpdateClass, { id: c.id, input: { isNormal: e.target.checked } }),
                    )
                  }
                />
              </td>
              <td>
                {c.retired ? (
                  'retired'
                ) : (
                  <button
                    type="button"
                    onClick={() => void run(() => call(RetireClass, { id: c.id }))}
                  >
                    Retire
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          void run(() =>
            call(AddClass, {
              slug,
              input: { name: String(f.get('name')), isNormal: f.get('isNormal') === 'on' },
            }),
          );
        }}
      >
        <label>
          New class
          <input name="name" required />
        </label>
        <label className="checkbox">
          <input name="isNormal" type="checkbox" defaultChecked /> normal (not a defect)
        </label>
        <button type="submit">Add class</button>
      </form>
      {note}
    </>
  );
}

interface Key {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  lastUsedAt?: string | null;
  revoked: boolean;
}

export function ApiKeys({ slug, keys }: { slug: string; keys: Key[] }) {
  const { run, note } = useAction();
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <>
      {secret && (
        <p role="status" className="status">
          New key (shown once; send it as <code>Authorization: Bearer …</code>):{' '}
          <code data-testid="new-key">{secret}</code>
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Key</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <th scope="row">{k.name}</th>
              <td>{k.role.toLowerCase()}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{k.lastUsedAt ? new Date(k.lastUsedAt).toLocaleString('en') : 'never'}</td>
              <td>
                {k.revoked ? (
                  'revoked'
                ) : (
                  <button
                    type="button"
                    onClick={() => void run(() => call(RevokeKey, { id: k.id }))}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          void run(
            async () => {
              const r = await call(CreateKey, {
                slug,
                name: String(f.get('name')),
                role: String(f.get('role')) as 'INTEGRATOR',
              });
              setSecret(r.createApiKey.secret);
            },
            'Key created.',
            false,
          );
        }}
      >
        <label>
          Key name
          <input name="name" required placeholder="line 3 camera" />
        </label>
        <label>
          Role
          <select name="role" defaultValue="INTEGRATOR">
            <option value="INTEGRATOR">integrator</option>
            <option value="ANNOTATOR">annotator</option>
            <option value="MANAGER">manager</option>
          </select>
        </label>
        <button type="submit">Create key</button>
      </form>
      {note}
    </>
  );
}

const SetMembership = graphql(`
  mutation SetMembership($slug: String!, $email: String!, $role: Role!) {
    setMembership(project: $slug, email: $email, role: $role) {
      role
    }
  }
`);

interface Member {
  role: string;
  user: { name: string; email: string };
}

/** Who works on the project, and a form to give someone (with an account) a role. */
export function Members({ slug, members }: { slug: string; members: Member[] }) {
  const { run, note } = useAction();
  return (
    <>
      <table data-testid="members">
        <thead>
          <tr>
            <th scope="col">Person</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.user.email}>
              <th scope="row">{m.user.name}</th>
              <td>{m.user.email}</td>
              <td>{m.role.toLowerCase()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="inline-form"
        aria-label="Give someone a role"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          void run(
            () =>
              call(SetMembership, {
                slug,
                email: String(f.get('email')).trim(),
                role: String(f.get('role')) as 'ANNOTATOR',
              }),
            'Role given.',
          );
        }}
      >
        <label>
          Email of their account
          <input name="email" type="email" required placeholder="name@example.com" />
        </label>
        <label>
          Role
          <select name="role" defaultValue="ANNOTATOR">
            <option value="ANNOTATOR">annotator</option>
            <option value="MANAGER">manager</option>
            <option value="ADMIN">admin</option>
          </select>
        </label>
        <button type="submit">Give role</button>
      </form>
      {note}
    </>
  );
}
