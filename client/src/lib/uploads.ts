// File uploads: the one call to our API outside tRPC, because tRPC carries JSON and a file is a
// raw body. POST /uploads takes the bytes with their content type (see server/modules/storage).
import { CSRF_HEADER } from '../../../shared/errors.ts';
import { UPLOAD_CONTENT_TYPES, UPLOAD_MAX_BYTES } from '../../../shared/schemas/storage.ts';
import { formatBytes } from './format.ts';

export class UploadError extends Error {}

export function checkUpload(file: File): string | null {
  if (file.size === 0) return 'The file is empty';
  if (file.size > UPLOAD_MAX_BYTES) return `Files can be at most ${formatBytes(UPLOAD_MAX_BYTES)}`;
  if (!(UPLOAD_CONTENT_TYPES as readonly string[]).includes(file.type))
    return `Files of type "${file.type || 'unknown'}" are not accepted`;
  return null;
}

export async function uploadFile(file: File): Promise<{ id: string; name: string }> {
  const problem = checkUpload(file);
  if (problem) throw new UploadError(problem);
  const response = await fetch(`/uploads?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    headers: { 'content-type': file.type, [CSRF_HEADER]: '1' },
    body: file,
  });
  const body = (await response.json().catch(() => ({}))) as { error?: string; id?: string; name?: string };
  if (!response.ok) throw new UploadError(body.error ?? `The upload failed (${response.status})`);
  return body as { id: string; name: string };
}
