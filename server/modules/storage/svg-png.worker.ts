// The worker thread behind svg-png.ts: resvg compiled to WebAssembly, with the bundled DejaVu
// fonts. WebAssembly has no file system or network, so an SVG cannot make it read a local file or
// fetch a URL (resvg's native build loads `<image href="/any/path">` from disk).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import { initWasm, Resvg } from '@resvg/resvg-wasm';

const require = createRequire(import.meta.url);
const FONT_DIR = require.resolve('dejavu-fonts-ttf/package.json').replace(/package\.json$/, 'ttf/');
const FONT_FILES = [
  'DejaVuSans.ttf',
  'DejaVuSans-Bold.ttf',
  'DejaVuSans-ExtraLight.ttf',
  'DejaVuSans-Oblique.ttf',
  'DejaVuSansCondensed.ttf',
  'DejaVuSansCondensed-Bold.ttf',
  'DejaVuSerif.ttf',
  'DejaVuSerif-Bold.ttf',
  'DejaVuSerif-Italic.ttf',
  'DejaVuSansMono.ttf',
  'DejaVuSansMono-Bold.ttf',
];

const fontBuffers = FONT_FILES.map((file) => readFileSync(`${FONT_DIR}${file}`));
const ready = initWasm(readFileSync(require.resolve('@resvg/resvg-wasm/index_bg.wasm')));

export type RenderRequest = { id: number; svg: Uint8Array; width: number };
export type RenderReply = { id: number; png?: Uint8Array; error?: string };

parentPort?.on('message', async ({ id, svg, width }: RenderRequest) => {
  try {
    await ready;
    const resvg = new Resvg(Buffer.from(svg), {
      fitTo: { mode: 'width', value: width },
      font: {
        fontBuffers,
        loadSystemFonts: false,
        defaultFontFamily: 'DejaVu Sans',
        sansSerifFamily: 'DejaVu Sans',
        serifFamily: 'DejaVu Serif',
        monospaceFamily: 'DejaVu Sans Mono',
      },
    });
    const png = resvg.render().asPng();
    resvg.free();
    parentPort?.postMessage({ id, png } satisfies RenderReply);
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
