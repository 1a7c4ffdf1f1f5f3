'use client';

import { useRouter, usePathname } from 'next/navigation';
import type { FilterParams } from '../lib/item-filters.ts';

/** Filters that live in the URL: changing one navigates, so views can be bookmarked and shared. */
export function ItemFilters({
  classes,
  values,
}: {
  classes: { id: string; name: string }[];
  values: FilterParams;
}) {
  const router = useRouter();
  const path = usePathname();
  const set = (name: keyof FilterParams, value: string) => {
    const next = new URLSearchParams(
      Object.entries(values).filter(([, v]) => v) as [string, string][],
    );
    if (value) next.set(name, value);
    else next.delete(name);
    router.push(`${path}?${next.toString()}`);
  };
  const select = (name: keyof FilterParams, label: string, options: [string, string][]) => (
    <label>
      {label}
      <select value={values[name] ?? ''} onChange={(e) => set(name, e.target.value)}>
        <option value="">any</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
  const classOptions = classes.map((c) => [c.id, c.name] as [string, string]);
  return (
    <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      {select('split', 'Split', [
        ['POOL', 'pool'],
        ['EVAL', 'eval'],
        ['GOLD', 'gold'],
      ])}
      {select('labeled', 'Labeled', [
        ['yes', 'labeled'],
        ['no', 'unlabeled'],
      ])}
      {select('duplicate', 'Near-duplicate', [
        ['yes', 'near-duplicates only'],
        ['no', 'no near-duplicates'],
      ])}
      {select('label', 'Label', classOptions)}
      {select('source', 'Label source', [
        ['HUMAN', 'human'],
        ['AUTO', 'auto'],
        ['IMPORT', 'import'],
      ])}
      {select('predicted', 'Predicted', classOptions)}
      <label>
        Min confidence
        <input
          type="number"
          min={0}
          max={1}
          step={0.05}
          defaultValue={values.minConfidence ?? ''}
          onBlur={(e) => set('minConfidence', e.target.value)}
        />
      </label>
      <label>
        Max confidence
        <input
          type="number"
          min={0}
          max={1}
          step={0.05}
          defaultValue={values.maxConfidence ?? ''}
          onBlur={(e) => set('maxConfidence', e.target.value)}
        />
      </label>
      <label>
        Min anomaly score
        <input
          type="number"
          min={0}
          max={1}
          step={0.05}
          defaultValue={values.minAnomaly ?? ''}
          onBlur={(e) => set('minAnomaly', e.target.value)}
        />
      </label>
      {select('sort', 'Sort', [
        ['RECENT', 'newest'],
        ['ANOMALY', 'most unusual'],
        ['UNCERTAINTY', 'least certain'],
      ])}
    </form>
  );
}
