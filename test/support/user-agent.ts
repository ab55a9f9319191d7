// A minimal browser for redirect flows (OAuth): GETs that follow 3xx hops one at a time across
// origins, keeping each origin's cookies, so a test can stop at any hop and tamper with it. URLs
// under the app's PUBLIC_URL are sent to the test server (the app's config names a public URL the
// test server does not listen on, as behind a proxy).
import { CookieJar, type TestServer } from './http.ts';

export type Hop = { url: string; status: number; location: string | null; body: string };

export class UserAgent {
  readonly #jars = new Map<string, CookieJar>();
  readonly #server: TestServer;
  readonly #publicUrl: string;

  constructor(server: TestServer, publicUrl: string) {
    this.#server = server;
    this.#publicUrl = publicUrl.replace(/\/+$/, '');
  }

  /** The app's cookies (shared with `httpClient(server, { jar })`). */
  get appJar(): CookieJar {
    return this.jar(this.#server.baseUrl);
  }

  jar(url: string): CookieJar {
    const origin = new URL(url).origin;
    let jar = this.#jars.get(origin);
    if (!jar) {
      jar = new CookieJar();
      this.#jars.set(origin, jar);
    }
    return jar;
  }

  /** An absolute URL the test server answers (a path or a PUBLIC_URL address → the server). */
  resolve(url: string, base = this.#server.baseUrl): string {
    const absolute = new URL(url, base).toString();
    return absolute.startsWith(`${this.#publicUrl}/`)
      ? `${this.#server.baseUrl}${absolute.slice(this.#publicUrl.length)}`
      : absolute;
  }

  /** One GET, no redirect followed; cookies stored. */
  async get(url: string): Promise<Hop> {
    const target = this.resolve(url);
    const jar = this.jar(target);
    const response = await fetch(target, {
      redirect: 'manual',
      headers: { ...(jar.header() ? { cookie: jar.header() } : {}), 'user-agent': 'forgeline-test' },
    });
    jar.store(response);
    const location = response.headers.get('location');
    return {
      url: target,
      status: response.status,
      location: location ? this.resolve(location, target) : null,
      body: await response.text(),
    };
  }

  /** Follows redirects from `url` until the next hop would be a URL `stop` accepts; returns that URL. */
  async followUntil(url: string, stop: (next: URL) => boolean, maxHops = 10): Promise<string> {
    let hop = await this.get(url);
    for (let i = 0; i < maxHops; i++) {
      if (!hop.location) {
        throw new Error(`${hop.url} answered ${hop.status} without a redirect: ${hop.body.slice(0, 500)}`);
      }
      if (stop(new URL(hop.location))) return hop.location;
      hop = await this.get(hop.location);
    }
    throw new Error(`more than ${maxHops} redirects from ${url}`);
  }
}
