import type { GenerationStatus } from '../../../../shared/schemas/generations.ts';
import { Spinner } from '../../ui/button.tsx';

const STYLES: Record<GenerationStatus, string> = {
  queued: 'bg-slate-100 text-slate-700 ring-slate-200',
  running: 'bg-amber-50 text-amber-800 ring-amber-200',
  succeeded: 'bg-emerald-50 text-emerald-700 ring-emerald-200',
  failed: 'bg-red-50 text-red-700 ring-red-200',
  canceled: 'bg-slate-100 text-slate-700 ring-slate-200',
};

export function StatusBadge({ status }: { status: GenerationStatus }) {
  return (
    <span
      data-testid="generation-status"
      className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-semibold ring-1 ring-inset ${STYLES[status]}`}
    >
      {(status === 'queued' || status === 'running') && <Spinner className="size-3" />}
      {status}
    </span>
  );
}
