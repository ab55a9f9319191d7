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
import { Agent, request as httpRequest } from 'node:http';
import autocannon, { type Instance, type Request } from 'autocannon';
import type { BenchUser } from './database.ts';
import { cpuSeconds, machineBusySeconds, treeCpu, treeCpuDelta } from './processes.ts';
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

async function openLoop(options: LoadOptions, rate: number): Promise<Traffic> {
  const { workload, users } = options;
  const target = new URL(workload.path, options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let sent = 0;
  let inFlight = 0;
  let stopped = false;
  let drained: (() => void) | undefined;

  const fire = (scheduledAt: number) => {
    const user = pickUser(users);
    const body = workload.body?.(user);
    sent++;
    inFlight++;
    let settled = false;
    const settle = (status: number | null) => {
      if (settled) return;
      settled = true;
      if (status === null) errors++;
      else {
        statusCodes[status] = (statusCodes[status] ?? 0) + 1;
        if (status >= 200 && status < 300) latencies.push(performance.now() - scheduledAt);
      }
      inFlight--;
      if (stopped && inFlight === 0) drained?.();
    };
    const req = httpRequest(
      target,
      { method: workload.method, headers: workload.headers(user), agent, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        res.resume();
        res.once('end', () => settle(res.statusCode ?? 0));
        res.once('error', () => settle(null));
      },
    );
    req.once('timeout', () => {
      timeouts++;
      req.destroy(new Error('timeout'));
    });
    req.once('error', () => settle(null));
    req.end(body);
  };

  const started = performance.now();
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
  agent.destroy();

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
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
