import type { ItemFilter, ItemSort } from '../generated/graphql.ts';

/** The explorer's filters as they appear in the URL (so a view can be shared). */
export interface FilterParams {
  split?: string;
  labeled?: string;
  label?: string;
  source?: string;
  predicted?: string;
  minConfidence?: string;
  maxConfidence?: string;
  minAnomaly?: string;
  round?: string;
  /** yes: only near-duplicates of earlier images; no: none of them. */
  duplicate?: string;
  sort?: string;
  /** Comma-separated item ids (a selection from the embedding map). */
  ids?: string;
}

const num = (v: string | undefined) =>
  v === undefined || v === '' || Number.isNaN(Number(v)) ? undefined : Number(v);

/** URL parameters to the API's filter and sort. */
export function toFilter(p: FilterParams): { filter: ItemFilter; sort: ItemSort } {
  const filter: ItemFilter = {};
  if (p.split === 'POOL' || p.split === 'EVAL' || p.split === 'GOLD') filter.split = p.split;
  if (p.labeled === 'yes') filter.labeled = true;
  if (p.labeled === 'no') filter.labeled = false;
  if (p.label) filter.labelClassIds = [p.label];
  if (p.source === 'HUMAN' || p.source === 'AUTO' || p.source === 'IMPORT' || p.source === 'GOLD')
    filter.labelSources = [p.source];
  if (p.predicted) filter.predictedClassIds = [p.predicted];
  const minC = num(p.minConfidence);
  const maxC = num(p.maxConfidence);
  if (minC !== undefined || maxC !== undefined) filter.confidence = { min: minC, max: maxC };
  const minA = num(p.minAnomaly);
  if (minA !== undefined) filter.anomalyScore = { min: minA };
  if (p.round) filter.roundId = p.round;
  if (p.duplicate === 'yes') filter.nearDuplicate = true;
  if (p.duplicate === 'no') filter.nearDuplicate = false;
  if (p.ids) filter.ids = p.ids.split(',').filter(Boolean).slice(0, 500);
  const sort: ItemSort = p.sort === 'ANOMALY' || p.sort === 'UNCERTAINTY' ? p.sort : 'RECENT';
  return { filter, sort };
}
