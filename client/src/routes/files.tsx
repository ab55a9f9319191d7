import { useSearchParams } from 'react-router';
import { FileList } from '../features/storage/file-list.tsx';
import { UploadButton } from '../features/storage/upload-button.tsx';
import { Card, PageHeader } from '../ui/layout.tsx';

export function FilesPage() {
  // Which list is in the address (?deleted=1), so a reload or a shared link keeps it.
  const [params, setParams] = useSearchParams();
  const deleted = params.get('deleted') === '1';
  return (
    <>
      <PageHeader title="Files" description="Your uploads and generated images." actions={<UploadButton />} />
      <Card>
        <nav aria-label="Which files" className="mb-4 flex gap-1">
          {([false, true] as const).map((value) => (
            <button
              key={String(value)}
              type="button"
              aria-pressed={deleted === value}
              onClick={() => setParams(value ? { deleted: '1' } : {})}
              className={`rounded-lg px-3 py-1.5 text-sm font-medium ${deleted === value ? 'bg-indigo-50 text-indigo-700' : 'text-slate-600 hover:bg-slate-100'}`}
            >
              {value ? 'Deleted' : 'Files'}
            </button>
          ))}
        </nav>
        <FileList deleted={deleted} />
      </Card>
    </>
  );
}
