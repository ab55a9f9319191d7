// Real processes for the operations tests: `node server/main.ts` / `server/worker.ts` /
// `server/cluster.ts` as a user starts them, the embedded postmaster and its children read from
// /proc, raw tRPC calls (to see HTTP statuses and headers) and a raw SSE reader.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type Spawned = {
  child: ChildProcess;
  pid: number;
  /** Everything it printed (stdout and stderr). */
  output(): string;
  /** What it printed on stdout alone. */
  stdout(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  /** Resolves once `text` appears in the output (rejects if the process exits first). */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
};

export function spawnNode(script: string, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!child.pid) throw new Error(`could not spawn ${script}`);
  let output = '';
  let stdout = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    append(chunk);
  });
  child.stderr?.on('data', append);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  return {
    child,
    pid: child.pid,
    output: () => output,
    stdout: () => stdout,
    exited,
    waitForOutput(text, timeoutMs = 180_000) {
      const found = () => (typeof text === 'string' ? output.includes(text) : text.test(output));
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (found()) {
            done();
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${script} exited before printing ${text}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${script} did not print ${text} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The postmaster running on a data directory (from its lock file). */
export function postmasterOf(dataDir: string): { pid: number; port: number } {
  const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

/** A connection URL to the embedded server of `dataDir` (its port and superuser password). */
export function embeddedUrl(dataDir: string, database = 'forgeline'): string {
  const password = readFileSync(`${dataDir}.password`, 'utf8').trim();
  return `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${postmasterOf(dataDir).port}/${database}`;
}

/** The pid of a postmaster's child process by its title (e.g. `checkpointer`). */
export function postgresChild(postmasterPid: number, title: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== postmasterPid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(title)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no "${title}" process under postmaster ${postmasterPid}`);
}

export const isRunning = (pid: number) => existsSync(`/proc/${pid}`);

export type RawResponse = { status: number; headers: Headers; body: unknown };

/** One tRPC call over HTTP without the client, to see the status code and headers. */
export async function rawTrpc(
  baseUrl: string,
  type: 'query' | 'mutation',
  path: string,
  input: unknown,
  cookie?: string,
): Promise<RawResponse> {
  const headers: Record<string, string> = { 'x-csrf-protection': '1', ...(cookie ? { cookie } : {}) };
  const encoded = input === undefined ? undefined : JSON.stringify({ json: input });
  const response =
    type === 'query'
      ? await fetch(`${baseUrl}/trpc/${path}${encoded ? `?input=${encodeURIComponent(encoded)}` : ''}`, {
          headers,
        })
      : await fetch(`${baseUrl}/trpc/${path}`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: encoded ?? '{}',
        });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/**
 * A raw SSE subscription (what a browser's EventSource does), on a connection of its own:
 * collects the `data:` lines.
 */
export async function openSse(url: string, cookie: string) {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const { req, res } = await new Promise<{ req: ReturnType<typeof httpRequest>; res: IncomingMessage }>(
    (resolve, reject) => {
      const req = httpRequest(
        url,
        { headers: { cookie, accept: 'text/event-stream' }, agent: false },
        (res) => resolve({ req, res }),
      );
      req.on('error', reject);
      req.end();
    },
  );
  if (res.statusCode !== 200) {
    req.destroy();
    throw new Error(`SSE ${url} answered ${res.statusCode}`);
  }
  let buffered = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) if (line.startsWith('data:')) lines.push(line.slice(5).trim());
    for (const wake of waiters) wake();
  });
  res.on('error', () => {});
  req.on('error', () => {});
  return {
    headers: res.headers,
    data: () => lines,
    /** Resolves with the first data line matching. */
    waitFor(match: (line: string) => boolean, timeoutMs = 120_000): Promise<string> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find(match);
          if (line) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(line);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching SSE event within ${timeoutMs} ms; got ${lines.length} events`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => req.destroy(),
  };
}

export type HttpAnswer = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
};

/**
 * One HTTP request with node:http. `agent: false` opens a new connection for it: behind a
 * connection-level balancer (node:cluster) that is how a client lands on the next process.
 */
export function httpCall(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    agent?: Agent | false;
    timeoutMs?: number;
  } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A request never left hanging: past this it fails like a dropped connection.
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error('request timed out')));
    if (options.body) req.write(options.body);
    req.end();
  });
}
