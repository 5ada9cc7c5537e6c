import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../alphavantage.rate-limiter';

/** One scripted answer of the replay server. */
export interface ReplayResponse {
  status?: number;
  /** JSON value (serialised) or raw text. */
  body: unknown;
  headers?: Record<string, string>;
}

/** A request the replay server received: its query parameters and the (fake) clock time it arrived. */
export interface ReceivedRequest {
  path: string;
  params: Record<string, string>;
  at: number;
}

/** Loads a hand-written Alpha Vantage fixture from `testing/fixtures`. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as T;
}

/** A clock whose `sleep` advances time instantly and records each delay. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public t = Date.UTC(2024, 0, 2, 15)) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

/**
 * A local HTTP server (node:http) that replays scripted Alpha Vantage answers in order, one per request to `/query`,
 * and records what it received. When the script runs out it answers 500 with a loud body, so a test that makes more
 * requests than it expects fails visibly.
 */
export class AlphaVantageReplayServer {
  readonly received: ReceivedRequest[] = [];
  private script: ReplayResponse[] = [];
  private server?: Server;

  constructor(private readonly clock?: Clock) {}

  /** Queues answers, served in order. */
  enqueue(...responses: ReplayResponse[]): this {
    this.script.push(...responses);
    return this;
  }

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      this.received.push({
        path: url.pathname,
        params: Object.fromEntries(url.searchParams),
        at: this.clock?.now() ?? Date.now(),
      });
      const next = this.script.shift() ?? { status: 500, body: 'replay script exhausted: unexpected request' };
      const text = typeof next.body === 'string' ? next.body : JSON.stringify(next.body, null, 4);
      res.writeHead(next.status ?? 200, {
        'content-type': typeof next.body === 'string' ? 'text/plain' : 'application/json',
        ...next.headers,
      });
      res.end(text);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server!.close((e) => (e ? reject(e) : resolve())));
  }
}
