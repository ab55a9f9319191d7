// One generation: status (kept live by useGenerationUpdates), outputs with their downloads (SVG as
// made, PNG rendered by the server), and its actions.
import { formatCredits, formatDuration, formatRelative, humanize } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { StatusBadge } from './status-badge.tsx';

export type Generation = RouterOutputs['generations']['get'];

export function titleOf(generation: Pick<Generation, 'kind' | 'input' | 'prompt'>) {
  const input = generation.input as { appName?: string } | null;
  if (generation.kind === 'logo' && input?.appName) return input.appName;
  return generation.prompt ? generation.prompt.slice(0, 80) : humanize(generation.kind);
}

/** A file URL with extra query parameters (it may already carry a signature). */
export const fileUrl = (url: string, params: Record<string, string>) =>
  `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(params)}`;

function Downloads({ url, contentType, label }: { url: string; contentType: string; label: string }) {
  const svg = contentType === 'image/svg+xml';
  const link =
    'rounded-md px-2 py-1 text-xs font-semibold text-indigo-700 ring-1 ring-inset ring-indigo-200 hover:bg-indigo-50';
  return (
    <div className="flex justify-center gap-1.5 pt-2">
      <a
        href={fileUrl(url, { download: '1' })}
        download
        className={link}
        aria-label={`Download ${label} as ${svg ? 'SVG' : 'file'}`}
      >
        {svg ? 'SVG' : 'Download'}
      </a>
      {svg && (
        <a
          href={fileUrl(url, { format: 'png', download: '1' })}
          download
          className={link}
          aria-label={`Download ${label} as PNG`}
          data-testid="download-png"
        >
          PNG
        </a>
      )}
    </div>
  );
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
  const title = titleOf(generation);

  return (
    <article
      className="rounded-2xl bg-white p-5 shadow-sm ring-1 ring-slate-200"
      data-testid="generation"
      data-id={generation.id}
    >
      <header className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 className="truncate font-semibold text-slate-900">{title}</h2>
          <p className="text-xs text-slate-600">
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
        <p className="mt-3 text-sm text-slate-600">Canceled; your credits were refunded.</p>
      )}

      {generation.images.length > 0 && (
        <ul className="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4">
          {generation.images.map((image, index) => (
            <li key={image.objectId} className="rounded-xl bg-slate-50 p-2 ring-1 ring-slate-200">
              <img
                src={image.url}
                alt={`${title} logo ${index + 1}`}
                className="aspect-square w-full object-contain"
                data-testid="generated-image"
              />
              <Downloads url={image.url} contentType={image.contentType} label={`logo ${index + 1}`} />
            </li>
          ))}
        </ul>
      )}
      {generation.response && (
        <pre className="mt-4 max-h-80 overflow-auto whitespace-pre-wrap rounded-xl bg-slate-900 p-4 text-xs text-slate-100">
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
            aria-label={`Delete ${title}`}
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
