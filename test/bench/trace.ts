// BENCH_TRACE=1: where an open loop's slow moments come from. The driver keeps every request's
// scheduled time and latency; the bench samples the machine's idle CPU every 250 ms; the servers
// log their event-loop stalls and GC pauses (stall-log.ts) and PostgreSQL its checkpoints,
// autovacuum runs, lock waits and statements of 40 ms or more. After each open-loop run, the
// slowest 250 ms windows are printed with everything those logs say happened in them, and the
// timeline is kept in the bench's temp dir. (How the open-loop p99 was read this way: README,
// Performance, "Open loop".)
import { readFileSync } from 'node:fs';
import { TICKS_PER_SECOND } from './processes.ts';

export const TRACE_WINDOW_MS = 250;

/** PostgreSQL settings that make its log say what it did in the background. */
export const postgresTraceSettings = {
  log_min_duration_statement: 40,
  log_checkpoints: 'on',
  log_autovacuum_min_duration: 0,
  log_lock_waits: 'on',
  log_line_prefix: '%m [%p] %a ',
};

/** Per-request samples of one open-loop run: [ms since its start, latency ms]. */
export type Timeline = { startedAt: number; samples: [number, number][] };

type CpuSample = { at: number; idleCores: number };

/** Samples the machine's idle cores every window until stopped. */
export function sampleIdleCores(): { stop(): CpuSample[] } {
  const samples: CpuSample[] = [];
  const read = () => {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
    return Number(fields[4] ?? 0) + Number(fields[5] ?? 0); // idle + iowait, in ticks
  };
  let previous = { at: Date.now(), idle: read() };
  const timer = setInterval(() => {
    const now = { at: Date.now(), idle: read() };
    const seconds = (now.at - previous.at) / 1000;
    if (seconds > 0)
      samples.push({ at: now.at, idleCores: (now.idle - previous.idle) / TICKS_PER_SECOND / seconds });
    previous = now;
  }, TRACE_WINDOW_MS);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** Timestamped lines of the servers' logs (stall-log.ts) and PostgreSQL's log, within [from, to]. */
function eventsBetween(
  logs: { name: string; file: string }[],
  from: number,
  to: number,
): { at: number; text: string }[] {
  const events: { at: number; text: string }[] = [];
  for (const { name, file } of logs) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      let at = Number.NaN;
      let what = '';
      const ours = /^(STALL|GC) (\d+) (.*)$/.exec(line);
      if (ours) {
        at = Number(ours[2]);
        what = `${ours[1] === 'STALL' ? 'event loop late' : 'GC'} ${ours[3]} ms`;
      } else if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC/.test(line)) {
        at = Date.parse(`${line.slice(0, 23).replace(' ', 'T')}Z`);
        what = line.slice(28, 160);
      }
      if (at >= from && at < to) events.push({ at, text: `${name}: ${what}` });
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

/** The slowest windows of an open-loop run, each with the machine's idle cores and the logs' events. */
export function explainTail(
  timeline: Timeline,
  cpu: CpuSample[],
  logs: { name: string; file: string }[],
  show = 6,
): string[] {
  const windows = new Map<number, number[]>();
  for (const [offset, latency] of timeline.samples) {
    const key = Math.floor(offset / TRACE_WINDOW_MS);
    const list = windows.get(key) ?? [];
    list.push(latency);
    windows.set(key, list);
  }
  const worst = [...windows.entries()]
    .map(([key, latencies]) => ({ key, max: Math.max(...latencies) }))
    .sort((a, b) => b.max - a.max)
    .slice(0, show)
    .sort((a, b) => a.key - b.key);
  return worst.map(({ key, max }) => {
    const from = timeline.startedAt + key * TRACE_WINDOW_MS;
    const to = from + TRACE_WINDOW_MS;
    const idle = cpu.filter((s) => s.at > from && s.at <= to + TRACE_WINDOW_MS).map((s) => s.idleCores);
    const idleText = idle.length ? `${Math.min(...idle).toFixed(2)} cores idle` : 'idle unknown';
    const events = eventsBetween(logs, from - TRACE_WINDOW_MS, to);
    const eventText = events.length
      ? events.map((e) => e.text).join('; ')
      : 'no stall, GC or PostgreSQL event';
    return `  ${String(key * TRACE_WINDOW_MS).padStart(6)} ms: max ${max.toFixed(1)} ms, ${idleText} | ${eventText.slice(0, 400)}`;
  });
}
