// A loopback S3-compatible server for the S3 storage driver: s3rver (an implementation of the S3 REST
// protocol on a temp directory) behind a front that does what a private bucket on S3 does with
// every request — refuses it unless it carries a valid AWS Signature Version 4, in the Authorization
// header or as a presigned query string (within its expiry), made with the key pair registered here
// (over method, path, query and the signed headers; the payload hash is taken as declared).
//
// The front checks signatures itself, by the published SigV4 algorithm, because s3rver's own check
// canonicalises query values with encodeURIComponent, which leaves ' and * unescaped where SigV4
// escapes them — so a presigned URL carrying `filename*=UTF-8''…` would be refused by s3rver and
// accepted by S3. s3rver then runs with allowMismatchedSignatures (it still resolves the key's account).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';

const require = createRequire(import.meta.url);
type S3rverApp = {
  configureBuckets(): Promise<void>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  logger: { close(): void };
};
const S3rver = require('@20minutes/s3rver') as new (options: Record<string, unknown>) => S3rverApp;
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account') as {
  DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void; revokeAccessKey(id: string): void };
};
/** How s3rver names an object's bytes on disk (`<dir>/<bucket>/<key>._S3rver_object`). */
const OBJECT_SUFFIX = '._S3rver_object';

export type FakeS3 = {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The S3_* environment that points the storage driver here. */
  env: Record<string, string>;
  /** Every request the fake answered (method, path without the query, status). */
  requests: { method: string; path: string; status: number }[];
  /** The object keys in the bucket that start with `prefix`. */
  keys(prefix?: string): string[];
  stop(): Promise<void>;
};

export async function startFakeS3(): Promise<FakeS3> {
  const directory = makeTempDir('forgeline-s3-');
  const bucket = 'forgeline-files';
  const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  const s3 = new S3rver({
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
    vhostBuckets: false,
    allowMismatchedSignatures: true,
  });
  await s3.configureBuckets();
  const handle = s3.callback();
  const requests: FakeS3['requests'] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    res.on('finish', () =>
      requests.push({ method: req.method ?? '', path: url.pathname, status: res.statusCode }),
    );
    const refusal = verifySignature(req, { accessKeyId, secretAccessKey });
    if (refusal) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message></Error>`,
      );
      return;
    }
    handle(req, res);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    env: {
      STORAGE_DRIVER: 's3',
      S3_BUCKET: bucket,
      S3_REGION: 'eu-west-3',
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: accessKeyId,
      S3_SECRET_ACCESS_KEY: secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    },
    requests,
    keys(prefix = '') {
      const root = join(directory, bucket);
      return (readdirSync(root, { recursive: true }) as string[])
        .filter((path) => path.endsWith(OBJECT_SUFFIX))
        .map((path) => relative(root, join(root, path)).slice(0, -OBJECT_SUFFIX.length))
        .filter((key) => key.startsWith(prefix))
        .sort();
    },
    async stop() {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      s3.logger.close();
      DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

type Refusal = { code: string; message: string };
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
/** RFC 3986 percent-encoding, as SigV4 requires (everything but A–Z a–z 0–9 - _ . ~). */
const uriEncode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const amzDateToMs = (value: string) =>
  Date.parse(value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));

const splitOnce = (text: string, separator: string): [string, string] => {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
};

/** Null when the request is signed by our key pair; otherwise S3's error code for it. */
function verifySignature(
  req: IncomingMessage,
  keys: { accessKeyId: string; secretAccessKey: string },
): Refusal | null {
  const [rawPath, rawQuery] = splitOnce(req.url ?? '/', '?');
  const query = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [key, value] = splitOnce(pair, '=');
      return [decodeURIComponent(key), decodeURIComponent(value)] as const;
    });
  const param = (name: string) => query.find(([key]) => key === name)?.[1];
  const presigned = param('X-Amz-Algorithm') !== undefined;
  const authorization = req.headers.authorization;
  if (!presigned && !authorization) return { code: 'AccessDenied', message: 'Access Denied' };

  let credential: string;
  let signedHeaders: string[];
  let signature: string;
  let amzDate: string;
  let payloadHash: string;
  if (presigned) {
    credential = param('X-Amz-Credential') ?? '';
    signedHeaders = (param('X-Amz-SignedHeaders') ?? '').split(';');
    signature = param('X-Amz-Signature') ?? '';
    amzDate = param('X-Amz-Date') ?? '';
    payloadHash = 'UNSIGNED-PAYLOAD';
    const expires = Number(param('X-Amz-Expires'));
    if (!(amzDateToMs(amzDate) + expires * 1000 >= Date.now())) {
      return { code: 'AccessDenied', message: 'Request has expired' };
    }
  } else {
    const fields = Object.fromEntries(
      (authorization ?? '')
        .replace(/^AWS4-HMAC-SHA256\s+/, '')
        .split(/,\s*/)
        .map((field) => splitOnce(field, '=')),
    );
    credential = fields.Credential ?? '';
    signedHeaders = (fields.SignedHeaders ?? '').split(';');
    signature = fields.Signature ?? '';
    amzDate = String(req.headers['x-amz-date'] ?? '');
    payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
    if (Math.abs(amzDateToMs(amzDate) - Date.now()) > 15 * 60 * 1000) {
      return {
        code: 'RequestTimeTooSkewed',
        message: 'The difference between the request time and the server time is too large',
      };
    }
  }
  const [accessKeyId, date, region, service, terminal] = credential.split('/');
  if (accessKeyId !== keys.accessKeyId) {
    return {
      code: 'InvalidAccessKeyId',
      message: 'The AWS Access Key Id you provided does not exist in our records.',
    };
  }
  if (!date || !region || service !== 's3' || terminal !== 'aws4_request' || !amzDate.startsWith(date)) {
    return { code: 'AuthorizationHeaderMalformed', message: 'The credential scope is malformed' };
  }
  if (!signedHeaders.includes('host'))
    return { code: 'AccessDenied', message: 'The host header must be signed' };

  const canonicalQuery = query
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = req.headers[name];
      return `${name}:${(Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [
    req.method,
    rawPath,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${keys.secretAccessKey}`, date), region), 's3'),
    'aws4_request',
  );
  const expected = Buffer.from(hmac(signingKey, stringToSign).toString('hex'));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return {
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return null;
}
