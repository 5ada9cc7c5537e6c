import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpWebhookTransport } from './http-webhook.transport';

describe('HttpWebhookTransport (real HTTP receiver on 127.0.0.1)', () => {
  let server: Server;
  let base: string;
  const seen: { url?: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        handler(req, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const t = new HttpWebhookTransport();

  it('POSTs the exact body with the given headers and returns any status', async () => {
    handler = (_q, res) => res.writeHead(202).end('accepted');
    const r = await t.post({
      url: `${base}/hook`,
      headers: { 'Content-Type': 'application/json', 'Strata-Event': 'x.evt.y.z.v1' },
      body: '{"a":1}',
      timeoutMs: 2000,
    });
    expect(r).toEqual({ status: 202, bodyExcerpt: 'accepted' });
    expect(seen.at(-1)).toMatchObject({
      url: '/hook',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json', 'strata-event': 'x.evt.y.z.v1' },
    });
    handler = (_q, res) => res.writeHead(503).end('x'.repeat(500));
    const r2 = await t.post({ url: `${base}/hook`, headers: {}, body: '{}', timeoutMs: 2000 });
    expect(r2.status).toBe(503);
    expect(r2.bodyExcerpt).toHaveLength(200);
  });

  it('does not follow redirects', async () => {
    handler = (_q, res) => res.writeHead(302, { location: 'http://example.invalid/' }).end();
    expect((await t.post({ url: `${base}/hook`, headers: {}, body: '{}', timeoutMs: 2000 })).status).toBe(302);
  });

  it('rejects on a timeout and on a refused connection', async () => {
    handler = (_q, res) => setTimeout(() => res.writeHead(200).end(), 1500);
    const started = Date.now();
    await expect(t.post({ url: `${base}/slow`, headers: {}, body: '{}', timeoutMs: 150 })).rejects.toThrow(
      'timeout after 150 ms',
    );
    expect(Date.now() - started).toBeLessThan(1000);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(
      t.post({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', timeoutMs: 2000 }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
