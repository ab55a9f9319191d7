// What `vite build` does to dist/client beyond bundling, for the server to serve it cheaply and
// safely: every compressible asset gets a Brotli (.br) and a gzip (.gz) copy at maximum compression
// (once, at build time, instead of per request), and the source maps move out of the served
// directory into dist/sourcemaps (kept for error tools, never public).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** Files smaller than this are served as they are: compression would not pay for its header. */
const MIN_BYTES = 1024;
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|xml|wasm)$/;

const filesUnder = (dir: string): string[] =>
  (readdirSync(dir, { recursive: true }) as string[])
    .map((path) => join(dir, path))
    .filter((path) => statSync(path).isFile());

/** Writes `<file>.br` and `<file>.gz` beside every compressible file of `dir` (when they are smaller). */
export function precompressDir(dir: string): { file: string; bytes: number; br: number; gz: number }[] {
  const written = [];
  for (const path of filesUnder(dir)) {
    if (!COMPRESSIBLE.test(path)) continue;
    const bytes = readFileSync(path);
    if (bytes.length < MIN_BYTES) continue;
    const br = brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    });
    const gz = gzipSync(bytes, { level: 9 });
    if (br.length < bytes.length) writeFileSync(`${path}.br`, br);
    if (gz.length < bytes.length) writeFileSync(`${path}.gz`, gz);
    written.push({ file: relative(dir, path), bytes: bytes.length, br: br.length, gz: gz.length });
  }
  return written;
}

/** Moves every `*.map` under `from` to the same place under `to` (emptied first). */
export function moveSourceMaps(from: string, to: string): number {
  rmSync(to, { recursive: true, force: true });
  let moved = 0;
  for (const path of filesUnder(from)) {
    if (!path.endsWith('.map')) continue;
    const target = join(to, relative(from, path));
    mkdirSync(dirname(target), { recursive: true });
    renameSync(path, target);
    moved++;
  }
  return moved;
}

/** The Vite plugin: after the bundle is written, stash the maps, then precompress the rest. */
export function servableOutput(options: { sourceMapsDir: string }): Plugin {
  let outDir = '';
  return {
    name: 'forgeline-servable-output',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      moveSourceMaps(outDir, options.sourceMapsDir);
      precompressDir(outDir);
    },
  };
}
