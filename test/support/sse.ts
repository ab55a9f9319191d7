// A real Server-Sent Events client over HTTP (fetch + the text/event-stream format), for watching a
// tRPC subscription the way a browser's EventSource does — with the cookies or bearer key we give.
export type SseEvent = { event: string; data: string };

export type EventStream = {
  status: number;
  events: SseEvent[];
  /** Resolves with the first event (already received or to come) that matches; rejects if the stream ends first. */
  next(matches: (event: SseEvent) => boolean, what?: string): Promise<SseEvent>;
  /** Resolves with every event once the server ends the response; rejects past the deadline. */
  ended(timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
};

export async function openEventStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let done = false;
  const notify = () => {
    for (const waiter of waiters) waiter();
  };

  const finished = (async () => {
    if (!response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = '';
    let data: string[] = [];
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buffer += value;
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            // A blank line dispatches the event being built (none when it has no data).
            if (data.length) events.push({ event: event || 'message', data: data.join('\n') });
            event = '';
            data = [];
            notify();
          } else if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          newline = buffer.indexOf('\n');
        }
      }
    } catch {
      // Aborted by close(): the stream is over either way.
    } finally {
      done = true;
      notify();
    }
  })();

  return {
    status: response.status,
    events,
    next(matches, what = 'an event') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(matches);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (done) {
            waiters.delete(check);
            reject(new Error(`The stream ended before ${what}: ${JSON.stringify(events)}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    async ended(timeoutMs = 20_000) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`The server did not end the stream within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([finished, deadline]);
      } finally {
        clearTimeout(timer);
      }
      return events;
    },
    close() {
      controller.abort();
    },
  };
}
