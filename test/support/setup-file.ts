// Runs before every test file: an unexpected console.error fails the test that caused it.
import { afterEach, beforeEach, vi } from 'vitest';

let logged: unknown[][] = [];
let allowed = 0;

/** Declares that the current test expects `count` console.error calls (e.g. a logged 500). */
export function expectConsoleErrors(count = 1) {
  allowed += count;
}

beforeEach(() => {
  logged = [];
  allowed = 0;
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    logged.push(args);
  });
});

afterEach(() => {
  vi.mocked(console.error).mockRestore();
  if (logged.length > allowed) {
    const text = logged.map((args) => args.map(String).join(' ')).join('\n');
    throw new Error(`Unexpected console.error during the test:\n${text}`);
  }
});
