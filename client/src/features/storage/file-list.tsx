// The user's files (uploads and generated outputs), or the deleted ones awaiting purge.
import { formatBytes, formatRelative } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { Empty, ErrorState } from '../../ui/layout.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';

type FileRow = RouterOutputs['storage']['list']['items'][number];

function FileItem({ file, deleted }: { file: FileRow; deleted: boolean }) {
  const utils = trpc.useUtils();
  const refresh = () => utils.storage.list.invalidate();
  const remove = trpc.storage.remove.useMutation({ onSuccess: refresh });
  const restore = trpc.storage.restore.useMutation({ onSuccess: refresh });
  const isImage = file.contentType.startsWith('image/');
  return (
    <li className="flex flex-wrap items-center gap-x-4 gap-y-2 py-3" data-testid="file">
      <div className="flex size-14 shrink-0 items-center justify-center overflow-hidden rounded-lg bg-slate-50 ring-1 ring-slate-200">
        {isImage && !deleted ? (
          <img src={file.url} alt="" className="size-full object-contain p-1" loading="lazy" />
        ) : (
          <span className="text-[10px] font-semibold uppercase text-slate-600">
            {file.contentType.split('/')[1]?.slice(0, 4)}
          </span>
        )}
      </div>
      <div className="min-w-0 flex-1">
        <p className="truncate text-sm font-medium text-slate-900">{file.name}</p>
        <p className="text-xs text-slate-600">
          {formatBytes(file.size)} ·{' '}
          {formatRelative(deleted && file.deletedAt ? file.deletedAt : file.createdAt)}
          {deleted && ' (deleted)'}
        </p>
      </div>
      {deleted ? (
        <Button
          variant="secondary"
          aria-label={`Restore ${file.name}`}
          busy={restore.isPending}
          onClick={() => restore.mutate({ id: file.id })}
        >
          Restore
        </Button>
      ) : (
        <>
          <a
            href={`${file.url}?download=1`}
            download
            aria-label={`Download ${file.name}`}
            className="rounded-lg px-3 py-2 text-sm font-semibold text-indigo-700 hover:bg-indigo-50"
          >
            Download
          </a>
          <ConfirmButton
            label="Delete"
            aria-label={`Delete ${file.name}`}
            title={`Delete ${file.name}?`}
            description="It moves to Deleted files, where you can restore it until it is purged."
            confirmLabel="Delete"
            busy={remove.isPending}
            onConfirm={() => remove.mutate({ id: file.id })}
          />
        </>
      )}
    </li>
  );
}

export function FileList({ deleted }: { deleted: boolean }) {
  const list = trpc.storage.list.useInfiniteQuery(
    { deleted, limit: 24 },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const files = list.data?.pages.flatMap((page) => page.items) ?? [];
  if (list.isPending) return <SkeletonRows label="Loading files" />;
  if (list.error) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  if (files.length === 0) {
    return (
      <Empty title={deleted ? 'Nothing deleted' : 'No files yet'}>
        {deleted
          ? 'Files you delete wait here before they are purged.'
          : 'Upload a file, or generate a logo: its images land here.'}
      </Empty>
    );
  }
  return (
    <>
      <ul className="divide-y divide-slate-100">
        {files.map((file) => (
          <FileItem key={file.id} file={file} deleted={deleted} />
        ))}
      </ul>
      <LoadMore query={list} />
    </>
  );
}
