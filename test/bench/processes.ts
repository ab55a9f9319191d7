// Child servers for the bench (spawned with their output in a log file, so the load generator's
// event loop never touches it), readiness polling, and /proc readings: RSS and CPU time.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type ServerProcess = {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
};

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startServer(options: {
  name: string;
  script: string;
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  readyPath: string;
  readyTimeoutMs: number;
  nodeArgs?: string[];
}): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const pid = child.pid;
  if (!pid) throw new Error(`${options.name}: could not spawn ${options.script}`);

  let exited: Promise<void> | undefined;
  const exitedPromise = () =>
    (exited ??= new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
    }));
  exitedPromise();
  // Last resort when the bench dies without running its cleanup.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const server: ServerProcess = {
    name: options.name,
    url,
    pid,
    child,
    logFile: options.logFile,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exitedPromise();
        clearTimeout(timer);
      }
    },
  };

  const deadline = Date.now() + options.readyTimeoutMs;
  while (true) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${options.name} exited while starting (see ${options.logFile}):\n${tail(options.logFile)}`,
      );
    }
    try {
      const response = await fetch(`${url}${options.readyPath}`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(
        `${options.name} was not ready within ${options.readyTimeoutMs} ms:\n${tail(options.logFile)}`,
      );
    }
    await sleep(250);
  }
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// Clock ticks per second of /proc/<pid>/stat's CPU fields (USER_HZ: 100 on every Linux we meet).
export const TICKS_PER_SECOND = 100;

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is parenthesised and may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process has used so far (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat; index 0 here is field 3.
  if (!fields) return 0;
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds per process of a process tree: the root and its direct children. */
export function treeCpu(rootPid: number): Map<number, number> {
  const result = new Map<number, number>([[rootPid, cpuSeconds(rootPid)]]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === rootPid) {
      result.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    }
  }
  return result;
}

/** CPU seconds a tree used between two readings (processes started in between count in full). */
export function treeCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/**
 * Busy CPU seconds of the whole machine so far (all cores; /proc/stat's first line minus idle and
 * iowait): what the bench's own processes did not use of it is someone else's load.
 */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((sum, n) => sum + (n ?? 0), 0);
    return idle === undefined || iowait === undefined ? 0 : busy / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resident set size in MiB (0 when the process is gone). */
export function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
