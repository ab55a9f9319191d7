// Guards every HTTP route shares, in front of routing.
import type { RequestHandler } from 'express';

/**
 * A URL with a malformed percent-escape (`/files/%`, `/trpc/%E0%A4%A`, `?sig=%`) is the client's
 * mistake: 400, before any router tries to decode it (Express's params and tRPC's path decoding
 * would otherwise throw and answer 500).
 */
export const rejectMalformedUrl: RequestHandler = (req, res, next) => {
  try {
    decodeURIComponent(req.originalUrl);
  } catch {
    res.status(400).json({ error: 'Malformed URL', requestId: req.id });
    return;
  }
  next();
};

/** The media type of a Content-Type header, lower-cased, without parameters ('' when absent). */
export const mediaTypeOf = (header: string | undefined): string =>
  (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
