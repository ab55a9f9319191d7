// One generation: status (kept live by useGenerationUpdates), outputs, and its actions.
import { formatCredits, formatDuration, formatRelative, humanize } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { StatusBadge } from './status-badge.tsx';

type Generation = RouterOutputs['generations']['get'];

function titleOf(generation: Generation) {
  const input = generation.input as { appName?: string } | null;
  if (generation.kind === 'logo' && input?.appName) return input.appName;
  return generation.prompt ? generation.prompt.slice(0, 80) : humanize(generation.kind);
}

export function GenerationCard({ generation }: { generation: Generation }) {
  const utils = trpc.useUtils();
  const cancel = trpc.generations.cancel.useMutation({
    onSuccess: (updated) => {
      utils.generations.get.setData({ id: updated.id }, updated);
      void utils.generations.list.invalidate();
      void utils.credits.invalidate();
    },
  });
  const remove = trpc.generations.remove.useMutation({
    onSuccess: () => {
      void utils.generations.list.invalidate();
      void utils.generations.get.invalidate({ id: generation.id });
    },
  });
  const active = generation.status === 'queued' || generation.status === 'running';

  return (
    <article
      className="rounded-2xl bg-white p-5 shadow-sm ring-1 ring-slate-200"
      data-testid="generation"
      data-id={generation.id}
    >
      <header className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h3 className="truncate font-semibold text-slate-900">{titleOf(generation)}</h3>
          <p className="text-xs text-slate-500">
            {humanize(generation.kind)} · {formatCredits(generation.creditsCharged)} ·{' '}
            {formatRelative(generation.createdAt)}
            {generation.durationMs !== null && ` · ${formatDuration(generation.durationMs)}`}
          </p>
        </div>
        <StatusBadge status={generation.status} />
      </header>

      {generation.status === 'failed' && generation.error && (
        <p className="mt-3 rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700">
          {generation.error} Your credits were refunded.
        </p>
      )}
      {generation.status === 'canceled' && (
        <p className="mt-3 text-sm text-slate-500">Canceled; your credits were refunded.</p>
      )}

      {generation.images.length > 0 && (
        <ul className="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4">
          {generation.images.map((image, index) => (
            <li
              key={image.objectId}
              className="group relative overflow-hidden rounded-xl bg-slate-50 ring-1 ring-slate-200"
            >
              <img
                src={image.url}
                alt={`${titleOf(generation)} logo ${index + 1}`}
                className="aspect-square w-full object-contain p-2"
                data-testid="generated-image"
              />
              <a
                href={`${image.url}?download=1`}
                download
                className="absolute right-2 bottom-2 rounded-md bg-white/90 px-2 py-1 text-xs font-semibold text-slate-700 shadow ring-1 ring-slate-200 hover:bg-white focus:opacity-100 sm:opacity-0 sm:group-hover:opacity-100"
              >
                Download
              </a>
            </li>
          ))}
        </ul>
      )}
      {generation.response && (
        <pre className="mt-4 max-h-80 overflow-auto rounded-xl bg-slate-900 p-4 text-xs text-slate-100 whitespace-pre-wrap">
          {generation.response}
        </pre>
      )}

      <footer className="mt-4 flex justify-end gap-2">
        {active ? (
          <Button
            variant="secondary"
            busy={cancel.isPending}
            onClick={() => cancel.mutate({ id: generation.id })}
          >
            Cancel
          </Button>
        ) : (
          <ConfirmButton
            label="Delete"
            title="Delete this generation?"
            description="It leaves your history. Its files stay in Files until you delete them there."
            confirmLabel="Delete"
            busy={remove.isPending}
            onConfirm={() => remove.mutate({ id: generation.id })}
          />
        )}
      </footer>
    </article>
  );
}

/** A generation by id, kept live by the subscription. */
export function LiveGeneration({ id }: { id: string }) {
  const generation = trpc.generations.get.useQuery({ id });
  if (!generation.data) return null;
  return <GenerationCard generation={generation.data} />;
}
