// The status of a project, a deployment or a project's generation, as a badge.
const STATUS_STYLE: Record<string, string> = {
  draft: 'bg-slate-100 text-slate-700',
  generating: 'bg-amber-50 text-amber-800',
  ready: 'bg-sky-50 text-sky-800',
  deploying: 'bg-amber-50 text-amber-800',
  deployed: 'bg-emerald-50 text-emerald-800',
  error: 'bg-red-50 text-red-700',
  queued: 'bg-slate-100 text-slate-700',
  building: 'bg-amber-50 text-amber-800',
  failed: 'bg-red-50 text-red-700',
  succeeded: 'bg-emerald-50 text-emerald-800',
  running: 'bg-amber-50 text-amber-800',
  canceled: 'bg-slate-100 text-slate-700',
};

export function ProjectStatus({ status }: { status: string }) {
  return (
    <span
      className={`rounded-full px-2 py-0.5 text-xs font-medium ${STATUS_STYLE[status] ?? 'bg-slate-100 text-slate-700'}`}
    >
      {status}
    </span>
  );
}
