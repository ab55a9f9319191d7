// One way to send raw SQL (docs/decisions/0007-raw-sql.md): `sql(em, …)` in the unit of work,
// `sqlOutsideTransaction(em, …)` for the few deliberate pool statements, `sqlOnReplica(em, …)` for
// the admin reads a replica may serve — all in server/db/sql.ts. No `em.execute` (it inlines the
// parameters) and no `getConnection().execute` (it escapes the caller's transaction) anywhere else.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, 'server');

/** Where `sqlOutsideTransaction` may be called: the cases ADR 0007 lists, and no others. */
const OUTSIDE_TRANSACTION_CALLERS = [
  'server/app.ts', // /ready's probe
  'server/db/cli.ts', // db:reset's schema drop
  'server/modules/mail/mail.service.ts', // the delivery loop: claim, send, record, each on its own
  'server/modules/metrics/metrics.service.ts', // /metrics gauges at scrape time
  'server/modules/rate-limits/rate-limits.service.ts', // counts that survive the call's rollback
  'server/modules/settings/settings.service.ts', // the signing secret, read once per process
];

const RAW_EXECUTE = /\.execute\s*(?:<[^()]*>)?\s*\(/g;
const OUTSIDE_CALL = /\bsqlOutsideTransaction\s*(?:<[^()]*>)?\s*\(/;

/** Source without comments (a doc comment may name `em.execute`). */
const code = (source: string) =>
  source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

function sourcesUnder(dir: string): { file: string; source: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .map((file) => ({ file: relative(ROOT, file), source: code(readFileSync(file, 'utf8')) }));
}

describe('raw SQL', () => {
  const sources = sourcesUnder(SERVER);

  it('no em.execute or getConnection().execute under server/ (sql.ts is the one door)', () => {
    expect(sources.length).toBeGreaterThan(50);
    const found = sources.flatMap(({ file, source }) =>
      [...source.matchAll(RAW_EXECUTE)].map(
        (match) => `${file}: ${source.slice(match.index, match.index + 40)}`,
      ),
    );
    expect(found).toEqual([]);
  });

  it('sqlOutsideTransaction only where ADR 0007 says a statement must run outside the transaction', () => {
    const callers = sources
      .filter(({ file, source }) => file !== 'server/db/sql.ts' && OUTSIDE_CALL.test(source))
      .map(({ file }) => file)
      .sort();
    expect(callers).toEqual(OUTSIDE_TRANSACTION_CALLERS);
  });

  it('sees the forms it forbids (the check itself)', () => {
    const source = code(
      [
        "await em.execute('select 1');",
        'await em.execute<{ id: string }[]>(text, params);',
        'await em.getConnection().execute(text);',
        "await em\n  .getConnection()\n  .execute<Row[]>('select 1');",
        '// em.execute(text) in a comment is fine',
        '/** as `em.execute(text)` would */',
        "await sql(em, 'select 1');",
        "executeSql: (text) => boss.executeSql('select 1')",
      ].join('\n'),
    );
    expect([...source.matchAll(RAW_EXECUTE)]).toHaveLength(4);
    expect(OUTSIDE_CALL.test('await sqlOutsideTransaction<Row>(em, text)')).toBe(true);
  });
});
