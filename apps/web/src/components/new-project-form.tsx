'use client';

import { useState, type FormEvent } from 'react';
import { graphql } from '../generated/gql.ts';
import { call } from '../lib/client.ts';
import { GraphQLRequestError } from '../lib/errors.ts';

const CreateProject = graphql(`
  mutation CreateProject($input: CreateProjectInput!) {
    createProject(input: $input) {
      slug
    }
  }
`);

interface ClassRow {
  key: number;
  name: string;
  colour: string;
  hotkey: string;
  isNormal: boolean;
}

const PALETTE = ['#2e7d32', '#c62828', '#1565c0', '#ef6c00', '#6a1b9a', '#00838f', '#5d4037'];
const row = (key: number, name = '', isNormal = false): ClassRow => ({
  key,
  name,
  colour: PALETTE[key % PALETTE.length]!,
  hotkey: key < 9 ? String(key + 1) : '',
  isNormal,
});

/** "Line 3 — caps" -> "line-3-caps": a slug proposal while the slug has not been typed. */
export const slugOf = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);

/** A field's problem from the API, under the field (and tied to it for screen readers). */
function Problem({ id, text }: { id: string; text?: string }) {
  if (!text) return null;
  return (
    <span className="field-error" id={id} role="alert">
      {text}
    </span>
  );
}

/** Name, slug, classes, round size and first budget of a new project, in one form. */
export function NewProjectForm() {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugTouched, setSlugTouched] = useState(false);
  const [description, setDescription] = useState('');
  const [classes, setClasses] = useState<ClassRow[]>([row(0, 'ok', true), row(1, 'defect')]);
  const [roundSize, setRoundSize] = useState('100');
  const [budget, setBudget] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nextKey = Math.max(-1, ...classes.map((c) => c.key)) + 1;

  const change = (key: number, patch: Partial<ClassRow>) =>
    setClasses(classes.map((c) => (c.key === key ? { ...c, ...patch } : c)));
  const problemProps = (field: string) =>
    fields[field]
      ? {
          'aria-invalid': true as const,
          'aria-describedby': `problem-${field.replaceAll('.', '-')}`,
        }
      : {};

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFields({});
    setError(null);
    const finalSlug = slugTouched ? slug : slugOf(name);
    try {
      const { createProject } = await call(CreateProject, {
        input: {
          name,
          slug: finalSlug,
          description,
          roundSize: roundSize ? Number(roundSize) : null,
          budget: budget ? Number(budget) : null,
          classes: classes.map((c) => ({
            name: c.name.trim(),
            colour: c.colour,
            hotkey: c.hotkey || null,
            isNormal: c.isNormal,
          })),
        },
      });
      window.location.assign(`/p/${createProject.slug}`);
    } catch (e) {
      setBusy(false);
      if (e instanceof GraphQLRequestError && Object.keys(e.fields).length > 0) {
        // Fields are matched by the rows' positions as sent.
        setFields(e.fields);
        setError('Some fields need a change; see the notes next to them.');
      } else setError((e as Error).message);
    }
  };

  return (
    <form onSubmit={submit} className="new-project" noValidate>
      <label>
        Name
        <input
          value={name}
          required
          maxLength={200}
          onChange={(e) => setName(e.target.value)}
          {...problemProps('name')}
        />
        <Problem id="problem-name" text={fields.name} />
      </label>
      <label>
        Slug (in addresses)
        <input
          value={slugTouched ? slug : slugOf(name)}
          required
          pattern="[a-z0-9][a-z0-9-]{1,62}"
          onChange={(e) => {
            setSlugTouched(true);
            setSlug(e.target.value);
          }}
          {...problemProps('slug')}
        />
        <Problem id="problem-slug" text={fields.slug} />
      </label>
      <label>
        Description
        <textarea
          value={description}
          maxLength={2000}
          onChange={(e) => setDescription(e.target.value)}
          {...problemProps('description')}
        />
        <Problem id="problem-description" text={fields.description} />
      </label>

      <fieldset>
        <legend>Classes</legend>
        <p className="muted">
          What annotators choose between. Normal classes are the reference for anomaly scores (say,
          “ok”); the hotkey labels an image in the queue.
        </p>
        <Problem id="problem-classes" text={fields.classes} />
        <table className="class-rows">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Colour</th>
              <th scope="col">Hotkey</th>
              <th scope="col">Normal</th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {classes.map((c, i) => (
              <tr key={c.key}>
                <td>
                  <input
                    aria-label={`Class ${i + 1} name`}
                    value={c.name}
                    required
                    maxLength={64}
                    onChange={(e) => change(c.key, { name: e.target.value })}
                    {...problemProps(`classes.${i}.name`)}
                  />
                  <Problem id={`problem-classes-${i}-name`} text={fields[`classes.${i}.name`]} />
                </td>
                <td>
                  <input
                    type="color"
                    aria-label={`Class ${i + 1} colour`}
                    value={c.colour}
                    onChange={(e) => change(c.key, { colour: e.target.value })}
                  />
                  <Problem
                    id={`problem-classes-${i}-colour`}
                    text={fields[`classes.${i}.colour`]}
                  />
                </td>
                <td>
                  <input
                    aria-label={`Class ${i + 1} hotkey`}
                    value={c.hotkey}
                    size={2}
                    maxLength={1}
                    onChange={(e) => change(c.key, { hotkey: e.target.value.toLowerCase() })}
                    {...problemProps(`classes.${i}.hotkey`)}
                  />
                  <Problem
                    id={`problem-classes-${i}-hotkey`}
                    text={fields[`classes.${i}.hotkey`]}
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Class ${i + 1} is normal`}
                    checked={c.isNormal}
                    onChange={(e) => change(c.key, { isNormal: e.target.checked })}
                  />
                </td>
                <td>
                  <button
                    type="button"
                    aria-label={`Remove class ${i + 1}`}
                    disabled={classes.length <= 2}
                    onClick={() => setClasses(classes.filter((x) => x.key !== c.key))}
                  >
                    ✕
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button
          type="button"
          disabled={classes.length >= 100}
          onClick={() => setClasses([...classes, row(nextKey)])}
        >
          Add a class
        </button>
      </fieldset>

      <label>
        Images per round (asked of annotators each round)
        <input
          type="number"
          min={1}
          max={10000}
          value={roundSize}
          onChange={(e) => setRoundSize(e.target.value)}
          {...problemProps('roundSize')}
        />
        <Problem id="problem-roundSize" text={fields.roundSize} />
      </label>
      <label>
        Label budget (labels people may give; add more later)
        <input
          type="number"
          min={0}
          value={budget}
          placeholder="0"
          onChange={(e) => setBudget(e.target.value)}
          {...problemProps('budget')}
        />
        <Problem id="problem-budget" text={fields.budget} />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create project'}
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
