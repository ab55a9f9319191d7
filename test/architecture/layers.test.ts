// The arrows between layers point one way: the tRPC layer (server/trpc/) imports no module —
// modules build on it (routers, orgProcedure, rate limits) — and a module's plain HTTP routes
// (*.http.ts) never reach into the tRPC layer: they use their module's services and the runtime.
// Checked on the import specifiers of the source (static, re-exports, dynamic and type imports).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, 'server');

const IMPORT_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** The relative imports of a source text, resolved against its file, as paths from the repo root. */
function importsOf(file: string, source: string): string[] {
  const found = new Set<string>();
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('.')) found.add(relative(ROOT, resolve(dirname(file), specifier)));
    }
  }
  return [...found];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** "file → import" for every import of `files` that lands under `forbidden` (a repo-relative dir). */
function violations(files: string[], forbidden: string): string[] {
  return files.flatMap((file) =>
    importsOf(file, readFileSync(file, 'utf8'))
      .filter((target) => target.startsWith(`${forbidden}/`))
      .map((target) => `${relative(ROOT, file)} → ${target}`),
  );
}

describe('layers', () => {
  it('server/trpc/ imports no module', () => {
    const files = filesUnder(join(SERVER, 'trpc'));
    expect(files.length).toBeGreaterThan(3);
    expect(violations(files, 'server/modules')).toEqual([]);
  });

  it("a module's *.http.ts never imports server/trpc/", () => {
    const files = filesUnder(join(SERVER, 'modules')).filter((file) => file.endsWith('.http.ts'));
    expect(files.length).toBeGreaterThan(3);
    expect(violations(files, 'server/trpc')).toEqual([]);
  });

  it('sees every form of import (the check itself)', () => {
    const file = join(SERVER, 'trpc', 'example.ts');
    const source = [
      "import { a } from '../modules/a/a.ts';",
      "import type { B } from '../modules/b/b.ts';",
      "import {\n  c,\n  type C,\n} from '../modules/c/c.ts';",
      "export { d } from '../modules/d/d.ts';",
      "export type { E } from '../modules/e/e.ts';",
      "import '../modules/f/f.ts';",
      "const g = await import('../modules/g/g.ts');",
      "import { z } from 'zod';",
      "import { h } from './h.ts';",
      '// a comment naming ../modules/i/i.ts imports nothing',
    ].join('\n');
    expect(importsOf(file, source).sort()).toEqual([
      'server/modules/a/a.ts',
      'server/modules/b/b.ts',
      'server/modules/c/c.ts',
      'server/modules/d/d.ts',
      'server/modules/e/e.ts',
      'server/modules/f/f.ts',
      'server/modules/g/g.ts',
      'server/trpc/h.ts',
    ]);
  });
});
