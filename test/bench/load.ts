// One load run of a workload against a server, each request built afresh (a random seeded user's
// session, and for a write a body with its own idempotency key), plus the CPU the server,
// PostgreSQL, the load generator and everything else on the machine used meanwhile.
//
// Closed loop (peak throughput): autocannon, N connections each sending its next request as soon
// as the previous one is answered. Open loop (latency at a given load): our own driver, because
// autocannon's rate limit sends each connection's whole per-second quota at the top of every second
// (a burst of `rate` requests at once, then silence) and then "corrects" the latencies for
// coordinated omission with a 1 ms expected interval. Here requests are issued on a steady
// schedule, whatever the server's pace, and each latency runs from the request's scheduled time, so
// a server that falls behind pays for the queue it causes.
import { connect, type Socket } from 'node:net';
import autocannon, { type Instance, type Request } from 'autocannon';
import type { BenchUser } from './database.ts';
import { cpuSeconds, machineBusySeconds, treeCpu, treeCpuDelta } from './processes.ts';
import type { Timeline } from './trace.ts';
import type { Workload } from './workloads.ts';

export type LoadOptions = {
  url: string;
  workload: Workload;
  users: BenchUser[];
  /** Closed loop: concurrent connections. Open loop: the most sockets the driver may open. */
  connections: number;
  durationSeconds: number;
  /** Open loop: requests per second, evenly spaced; unset = closed loop. */
  rate?: number;
  /** Open loop: keep every request's scheduled time and latency (BENCH_TRACE, trace.ts). */
  timeline?: boolean;
  serverPid: number;
  postgresPid: number | null;
};

export type LoadResult = {
  /** Responses received in time. */
  requests: number;
  /**
   * Requests sent, counting those still in flight when the run stopped (the server finishes them):
   * the denominator for what the database saw.
   */
  sent: number;
  durationSeconds: number;
  rps: number;
  /** Of 2xx responses. */
  latencyMs: { p50: number; p90: number; p99: number; p99_9: number; max: number; mean: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /**
   * CPU seconds used during the run; `other` is the rest of the machine's busy time (other
   * processes — the idle server among them — and the kernel), a sign of a noisy neighbour.
   */
  cpu: { server: number; postgres: number; loadGenerator: number; other: number };
  /** With `timeline`: [ms since the open loop started, latency ms] of every 2xx response. */
  timeline?: Timeline;
};

type Traffic = Omit<LoadResult, 'cpu'>;

const REQUEST_TIMEOUT_MS = 10_000;

let stopCurrent: (() => void) | undefined;

/** Stops the run in progress (on SIGINT). */
export function stopLoad() {
  stopCurrent?.();
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const serverCpu = cpuSeconds(options.serverPid);
  const postgresCpu = options.postgresPid ? treeCpu(options.postgresPid) : new Map<number, number>();
  const ownCpu = process.cpuUsage();
  const machineCpu = machineBusySeconds();

  const traffic = options.rate ? await openLoop(options, options.rate) : await closedLoop(options);

  const own = process.cpuUsage(ownCpu);
  const machine = machineBusySeconds() - machineCpu;
  const server = cpuSeconds(options.serverPid) - serverCpu;
  const postgres = options.postgresPid ? treeCpuDelta(postgresCpu, treeCpu(options.postgresPid)) : 0;
  const loadGenerator = (own.user + own.system) / 1e6;
  const other = Math.max(0, machine - server - postgres - loadGenerator);
  return { ...traffic, cpu: { server, postgres, loadGenerator, other } };
}

const pickUser = (users: BenchUser[]) => users[Math.floor(Math.random() * users.length)] as BenchUser;

async function closedLoop(options: LoadOptions): Promise<Traffic> {
  const { workload, users } = options;
  const request: Request = {
    method: workload.method,
    path: workload.path,
    setupRequest(req) {
      const user = pickUser(users);
      req.headers = workload.headers(user);
      if (workload.body) req.body = workload.body(user);
      return req;
    },
  };
  const instance: Instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: REQUEST_TIMEOUT_MS / 1000,
    requests: [request],
  });
  stopCurrent = () => instance.stop();
  const result = await instance;
  stopCurrent = undefined;

  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = count;
  const requests = result.requests.total;
  return {
    requests,
    sent: result.requests.sent,
    durationSeconds: result.duration,
    rps: requests / result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p99_9: result.latency.p99_9,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
  };
}

/**
 * The open loop's requests go out on raw keep-alive sockets (at most `connections`, one request in
 * flight on each, a request waiting for a free socket when all are busy): node:http's client cost
 * ~370 µs of CPU per request here, more than half of what the server under test spent, on the same
 * two cores — the driver's own load and event-loop delay were in the latencies it measured. This
 * one writes pre-built bytes and reads only the status line and Content-Length (or chunked framing).
 */
async function openLoop(options: LoadOptions, rate: number): Promise<Traffic> {
  const { workload, users } = options;
  const target = new URL(workload.path, options.url);
  const port = Number(target.port);
  const host = target.hostname;
  const head = `${workload.method} ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n`;
  // Without a body, the bytes of each user's request are the same every time: built once.
  const fixed = new Map<BenchUser, Buffer>();
  const requestBytes = (user: BenchUser): Buffer => {
    if (!workload.body) {
      let bytes = fixed.get(user);
      if (!bytes) {
        bytes = Buffer.from(`${head}${headerLines(workload.headers(user))}\r\n`);
        fixed.set(user, bytes);
      }
      return bytes;
    }
    const body = Buffer.from(workload.body(user));
    return Buffer.concat([
      Buffer.from(`${head}${headerLines(workload.headers(user))}Content-Length: ${body.length}\r\n\r\n`),
      body,
    ]);
  };

  let started = performance.now();
  const latencies: number[] = [];
  const samples: Timeline['samples'] | null = options.timeline ? [] : null;
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let sent = 0;
  let inFlight = 0;
  let stopped = false;
  let drained: (() => void) | undefined;

  type Pending = { bytes: Buffer; scheduledAt: number };
  const waiting: Pending[] = [];
  const idle: Conn[] = [];
  let open = 0;

  const settle = (scheduledAt: number, status: number | null) => {
    if (status === null) errors++;
    else {
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        const latency = performance.now() - scheduledAt;
        latencies.push(latency);
        samples?.push([Math.round(scheduledAt - started), Math.round(latency * 10) / 10]);
      }
    }
    inFlight--;
    if (stopped && inFlight === 0) drained?.();
  };

  class Conn {
    readonly socket: Socket;
    current: Pending | null = null;
    buffer: Buffer = Buffer.alloc(0);
    timer: NodeJS.Timeout | null = null;
    constructor() {
      open++;
      this.socket = connect({ port, host, noDelay: true });
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket.on('error', () => {});
      this.socket.on('close', () => {
        open--;
        const index = idle.indexOf(this);
        if (index !== -1) idle.splice(index, 1);
        if (this.current) this.finish(null, false);
        pump();
      });
    }
    send(request: Pending) {
      this.current = request;
      this.buffer = Buffer.alloc(0);
      this.timer = setTimeout(() => {
        timeouts++;
        this.socket.destroy();
      }, REQUEST_TIMEOUT_MS);
      this.socket.write(request.bytes);
    }
    onData(chunk: Buffer) {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end === -1 || !this.current) return;
      const header = this.buffer.toString('latin1', 0, end);
      const status = Number(header.slice(9, 12));
      const lower = header.toLowerCase();
      const close = /\r\nconnection: *close/.test(lower);
      const lengthMatch = /\r\ncontent-length: *(\d+)/.exec(lower);
      const bodyStart = end + 4;
      if (lengthMatch) {
        if (this.buffer.length - bodyStart < Number(lengthMatch[1])) return;
      } else if (/\r\ntransfer-encoding: *chunked/.test(lower)) {
        // Enough of chunked framing for a whole body: the last chunk is `0\r\n\r\n`.
        if (this.buffer.indexOf('0\r\n\r\n', bodyStart) === -1) return;
      } else {
        this.finish(null, true);
        return;
      }
      this.finish(status, close);
    }
    finish(status: number | null, close: boolean) {
      const request = this.current as Pending;
      this.current = null;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      settle(request.scheduledAt, status);
      if (close || status === null) {
        this.socket.destroy();
        return;
      }
      const next = waiting.shift();
      if (next) this.send(next);
      else idle.push(this);
    }
  }

  /** Hands waiting requests to idle sockets, opening sockets up to the cap. */
  const pump = () => {
    while (waiting.length) {
      const conn = idle.pop() ?? (open < options.connections ? new Conn() : null);
      if (!conn) return;
      conn.send(waiting.shift() as Pending);
    }
  };

  const fire = (scheduledAt: number) => {
    sent++;
    inFlight++;
    waiting.push({ bytes: requestBytes(pickUser(users)), scheduledAt });
  };

  started = performance.now();
  const durationMs = options.durationSeconds * 1000;
  const interval = 1000 / rate;
  let issued = 0;
  await new Promise<void>((done) => {
    // A coarse timer issuing every request whose scheduled time has come; the latency clock of
    // each starts at its schedule, not at when the timer got round to it.
    const tick = () => {
      const now = performance.now();
      const due = Math.min(Math.floor((now - started) / interval) + 1, Math.floor(durationMs / interval));
      while (issued < due) fire(started + issued++ * interval);
      pump();
      if (now - started >= durationMs || stopped) {
        clearInterval(timer);
        done();
      }
    };
    const timer = setInterval(tick, Math.min(5, interval));
    stopCurrent = () => {
      stopped = true;
    };
    tick();
  });
  const elapsedSeconds = (performance.now() - started) / 1000;
  // Answers still on their way belong to this run: wait for them (they are late, not lost).
  stopped = true;
  if (inFlight > 0) {
    await Promise.race([
      new Promise<void>((resolveDrained) => {
        drained = resolveDrained;
      }),
      new Promise<void>((resolveLate) => setTimeout(resolveLate, REQUEST_TIMEOUT_MS).unref()),
    ]);
  }
  stopCurrent = undefined;
  // Requests never sent (the run was cut short) are errors, not latencies.
  for (const request of waiting.splice(0)) settle(request.scheduledAt, null);
  for (const conn of [...idle]) conn.socket.destroy();

  const answered = Object.values(statusCodes).reduce((sum, n) => sum + n, 0);
  const ok = latencies.length;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    ok ? round((latencies[Math.min(ok - 1, Math.ceil(q * ok) - 1)] ?? 0) as number) : 0;
  return {
    requests: answered,
    sent,
    durationSeconds: elapsedSeconds,
    rps: answered / elapsedSeconds,
    latencyMs: {
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      p99_9: at(0.999),
      max: ok ? round(latencies[ok - 1] as number) : 0,
      mean: ok ? round(latencies.reduce((sum, n) => sum + n, 0) / ok) : 0,
    },
    errors,
    timeouts,
    non2xx: answered - ok,
    statusCodes,
    ...(samples ? { timeline: { startedAt: Math.round(performance.timeOrigin + started), samples } } : {}),
  };
}

const headerLines = (headers: Record<string, string>) =>
  Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');

const round = (ms: number) => Math.round(ms * 100) / 100;

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
