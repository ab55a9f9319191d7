// The server's logger in tests: errors go to console.error, which fails the test unless expected
// (see setup-file.ts), so an unexpected internal error can never pass silently.
import { pino } from 'pino';
import type { Logger } from '../../server/common/logger.ts';

export function createTestLogger(): Logger {
  return pino(
    { level: 'error', base: undefined },
    { write: (line: string) => console.error(`[server log] ${line.trimEnd()}`) },
  );
}
