import { useState } from 'react';
import { FileList } from '../features/storage/file-list.tsx';
import { UploadButton } from '../features/storage/upload-button.tsx';
import { Card, PageHeader } from '../ui/layout.tsx';

export function FilesPage() {
  const [deleted, setDeleted] = useState(false);
  return (
    <>
      <PageHeader title="Files" description="Your uploads and generated images." actions={<UploadButton />} />
      <Card>
        <div role="tablist" aria-label="Which files" className="mb-4 flex gap-1">
          {([false, true] as const).map((value) => (
            <button
              key={String(value)}
              type="button"
              role="tab"
              aria-selected={deleted === value}
              onClick={() => setDeleted(value)}
              className={`rounded-lg px-3 py-1.5 text-sm font-medium ${deleted === value ? 'bg-indigo-50 text-indigo-700' : 'text-slate-600 hover:bg-slate-100'}`}
            >
              {value ? 'Deleted' : 'Files'}
            </button>
          ))}
        </div>
        <FileList deleted={deleted} />
      </Card>
    </>
  );
}
