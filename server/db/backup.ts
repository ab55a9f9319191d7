// db:backup and db:restore: pg_dump / pg_restore in the custom format. The client tools must be
// at least the server's major version (pg_dump refuses a newer server): with the embedded
// PostgreSQL 18, install PostgreSQL 18's client tools and point PG_BIN_DIR at them, or put them
// on PATH. A restore replaces what is in the target database and ends with db:verify.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

const tool = (name: 'pg_dump' | 'pg_restore') =>
  process.env.PG_BIN_DIR ? join(process.env.PG_BIN_DIR, name) : name;

async function majorOf(command: string): Promise<number> {
  try {
    const { stdout } = await run(command, ['--version']);
    return Number(/(\d+)(?:\.\d+)?/.exec(stdout)?.[1] ?? 0);
  } catch {
    throw new Error(`${command} was not found: install PostgreSQL's client tools or set PG_BIN_DIR`);
  }
}

async function serverMajor(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version_num') as v");
    return Math.floor(Number(rows[0]?.v) / 10_000);
  } finally {
    await client.end();
  }
}

async function checkTools(command: string, url: string) {
  const [client, server] = await Promise.all([majorOf(command), serverMajor(url)]);
  if (client < server) {
    throw new Error(
      `${command} ${client} cannot handle a PostgreSQL ${server} server: install PostgreSQL ${server}'s client tools (PG_BIN_DIR)`,
    );
  }
}

/** Writes a custom-format dump of the whole database to `file`. */
export async function backupDatabase(url: string, file: string): Promise<void> {
  await checkTools(tool('pg_dump'), url);
  mkdirSync(dirname(file), { recursive: true });
  await run(
    tool('pg_dump'),
    ['--format=custom', '--no-owner', '--no-privileges', `--file=${file}`, `--dbname=${url}`],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
}

/** Replaces the database's contents with the dump in `file` (one transaction). */
export async function restoreDatabase(url: string, file: string): Promise<void> {
  await checkTools(tool('pg_restore'), url);
  await run(
    tool('pg_restore'),
    [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--no-privileges',
      '--single-transaction',
      '--exit-on-error',
      `--dbname=${url}`,
      file,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
}
