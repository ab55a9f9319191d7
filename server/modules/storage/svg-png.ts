// SVG → PNG for `GET /files/:id?format=png`: logos download as PNG beside their SVG. Rendering is
// CPU work, so it runs on one worker thread (the event loop keeps serving), one render at a time,
// and a render that takes longer than RENDER_TIMEOUT_MS (a hostile SVG) ends the worker: the
// request fails and the next render starts a fresh one.
import { Worker } from 'node:worker_threads';
import type { RenderReply, RenderRequest } from './svg-png.worker.ts';

export const PNG_WIDTH_DEFAULT = 1024;
export const PNG_WIDTH_MAX = 2048;
const RENDER_TIMEOUT_MS = 10_000;

export class SvgRenderError extends Error {}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (png: Buffer) => void; reject: (error: Error) => void }>();
let queue: Promise<unknown> = Promise.resolve();

function startWorker(): Worker {
  const started = new Worker(new URL('./svg-png.worker.ts', import.meta.url));
  // An idle renderer never keeps the process alive.
  started.unref();
  started.on('message', ({ id, png, error }: RenderReply) => {
    const waiter = pending.get(id);
    pending.delete(id);
    if (!waiter) return;
    if (png) waiter.resolve(Buffer.from(png));
    else waiter.reject(new SvgRenderError(error ?? 'The SVG could not be rendered'));
  });
  const fail = (error: Error) => {
    if (worker === started) worker = null;
    for (const [id, waiter] of pending) {
      pending.delete(id);
      waiter.reject(error);
    }
  };
  started.on('error', fail);
  started.on('exit', () => fail(new SvgRenderError('The renderer stopped')));
  return started;
}

function renderNow(svg: Buffer, width: number): Promise<Buffer> {
  worker ??= startWorker();
  const current = worker;
  const id = nextId++;
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new SvgRenderError('The SVG took too long to render'));
      if (worker === current) worker = null;
      void current.terminate();
    }, RENDER_TIMEOUT_MS);
    pending.set(id, {
      resolve: (png) => {
        clearTimeout(timer);
        resolve(png);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
    current.postMessage({ id, svg: new Uint8Array(svg), width } satisfies RenderRequest);
  });
}

/** Renders an SVG document to a PNG `width` pixels wide (height keeps the aspect ratio). */
export function svgToPng(svg: Buffer, width = PNG_WIDTH_DEFAULT): Promise<Buffer> {
  const result = queue.then(() => renderNow(svg, width));
  queue = result.catch(() => {});
  return result;
}

/** Stops the renderer (tests, shutdown). */
export async function stopSvgRenderer() {
  const current = worker;
  worker = null;
  await current?.terminate();
}
