import { useMutation } from '@tanstack/react-query';
import { useRef } from 'react';
import { UPLOAD_CONTENT_TYPES } from '../../../../shared/schemas/storage.ts';
import { trpc } from '../../lib/trpc.ts';
import { uploadFile } from '../../lib/uploads.ts';
import { Button } from '../../ui/button.tsx';

export function UploadButton() {
  const input = useRef<HTMLInputElement>(null);
  const utils = trpc.useUtils();
  const upload = useMutation({
    mutationFn: uploadFile,
    onSuccess: () => utils.storage.list.invalidate(),
  });
  return (
    <div className="flex flex-col items-end gap-1">
      <input
        ref={input}
        type="file"
        className="sr-only"
        accept={UPLOAD_CONTENT_TYPES.join(',')}
        aria-label="Choose a file to upload"
        data-testid="upload-input"
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) upload.mutate(file);
          event.target.value = '';
        }}
      />
      <Button busy={upload.isPending} onClick={() => input.current?.click()}>
        Upload
      </Button>
      {upload.error && (
        <p role="alert" className="text-sm text-red-700">
          {upload.error.message}
        </p>
      )}
    </div>
  );
}
