// Preloaded into a bench server with BENCH_TRACE=1 (`node --import ./test/bench/stall-log.ts`):
// writes to stderr, with the wall-clock time, every event-loop stall above 4 ms (a 5 ms timer
// that fired late) and every GC pause above 3 ms or major GC, so test/bench/trace.ts can put
// them beside the open loop's slow moments.
import { constants, PerformanceObserver } from 'node:perf_hooks';

const TICK_MS = 5;
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const lag = now - last - TICK_MS;
  if (lag > 4) process.stderr.write(`STALL ${Math.round(performance.timeOrigin + now)} ${lag.toFixed(1)}\n`);
  last = now;
}, TICK_MS).unref();

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
    if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR && entry.duration <= 3) continue;
    process.stderr.write(
      `GC ${Math.round(performance.timeOrigin + entry.startTime)} ${GC_KINDS[kind] ?? kind} ${entry.duration.toFixed(1)}\n`,
    );
  }
}).observe({ entryTypes: ['gc'] });
