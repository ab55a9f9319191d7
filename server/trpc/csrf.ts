// CSRF defence in front of /trpc (spec §11). Browsers send `multipart/form-data`, `text/plain` and
// urlencoded bodies cross-site without a preflight, and tRPC treats a multipart POST as a mutation:
// so a non-GET must be JSON, and must not come from another site. Cookie-authenticated mutations
// must also carry the x-csrf-protection header (checked per procedure in trpc.ts).
// Media types are case-insensitive and may carry parameters (`Application/JSON; charset=utf-8`),
// while tRPC matches the header with a case-sensitive `startsWith('application/json')`: a JSON body
// passes on with the header normalised, so tRPC reads it as JSON.
import type { RequestHandler } from 'express';
import { mediaTypeOf } from '../common/http-guards.ts';

export const trpcRequestGuard: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  if (mediaTypeOf(req.get('content-type')) !== 'application/json') {
    res.status(415).json({ error: 'tRPC mutations must be sent as application/json' });
    return;
  }
  req.headers['content-type'] = 'application/json';
  if (req.get('sec-fetch-site') === 'cross-site') {
    res.status(403).json({ error: 'Cross-site request refused' });
    return;
  }
  const origin = req.get('origin');
  if (origin && origin !== 'null') {
    let sameHost = false;
    try {
      sameHost = new URL(origin).host === req.get('host');
    } catch {
      sameHost = false;
    }
    if (!sameHost) {
      res.status(403).json({ error: 'Cross-origin request refused' });
      return;
    }
  } else if (origin === 'null') {
    res.status(403).json({ error: 'Opaque-origin request refused' });
    return;
  }
  next();
};
