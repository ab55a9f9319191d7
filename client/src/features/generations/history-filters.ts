// The history's filters live in the URL (?q=&kind=&status=&from=&to=): a filtered view can be
// reloaded, bookmarked, shared and navigated back to.
import { useSearchParams } from 'react-router';
import {
  GENERATION_KINDS,
  GENERATION_STATUSES,
  type GenerationKind,
  type GenerationStatus,
} from '../../../../shared/schemas/generations.ts';

export type HistoryFilters = {
  q: string;
  kind: GenerationKind | '';
  status: GenerationStatus | '';
  /** yyyy-mm-dd, the user's local days, inclusive. */
  from: string;
  to: string;
};

const isDay = (value: string | null): value is string => Boolean(value && /^\d{4}-\d{2}-\d{2}$/.test(value));
const oneOf = <T extends string>(values: readonly T[], value: string | null): T | '' =>
  value && (values as readonly string[]).includes(value) ? (value as T) : '';

export function useHistoryFilters() {
  const [params, setParams] = useSearchParams();
  const filters: HistoryFilters = {
    q: params.get('q') ?? '',
    kind: oneOf(GENERATION_KINDS, params.get('kind')),
    status: oneOf(GENERATION_STATUSES, params.get('status')),
    from: isDay(params.get('from')) ? (params.get('from') as string) : '',
    to: isDay(params.get('to')) ? (params.get('to') as string) : '',
  };
  const update = (change: Partial<HistoryFilters>) => {
    const next = { ...filters, ...change };
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(next)) if (value) query.set(key, value);
    // Typing in the search box replaces the entry; other changes are steps Back can undo.
    setParams(query, { replace: 'q' in change });
  };
  const active = Object.values(filters).some(Boolean);
  const rangeError =
    filters.from && filters.to && filters.from > filters.to ? 'The start is after the end' : null;
  return {
    filters,
    update,
    clear: () => setParams(new URLSearchParams()),
    active,
    rangeError,
    search: params.toString(),
  };
}

/** The filters as generations.list input. */
export function listInput(filters: HistoryFilters) {
  return {
    ...(filters.q.trim() ? { search: filters.q.trim() } : {}),
    ...(filters.kind ? { kind: [filters.kind] } : {}),
    ...(filters.status ? { status: [filters.status] } : {}),
    ...(filters.from ? { from: new Date(`${filters.from}T00:00:00`) } : {}),
    ...(filters.to ? { to: new Date(`${filters.to}T23:59:59.999`) } : {}),
  };
}
