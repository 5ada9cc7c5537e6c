import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_JSON, problemType, statusTitle } from './problem';

interface RouteNode {
  /** Static children by segment. */
  statics: Map<string, RouteNode>;
  /** The `:param` child (one per position, whatever its name). */
  param?: RouteNode;
  /** Methods of a `*` route at this position (matches the rest of the path, possibly empty). */
  wildcard?: Set<string>;
  /** Methods of the route ending here; undefined when no route ends here. */
  methods?: Set<string>;
}

const newNode = (): RouteNode => ({ statics: new Map() });

/**
 * The app's routes as resources: path pattern → methods. {@link RouteTable.allowed} resolves a concrete path to the
 * one resource it names, the way a reader of the OpenAPI document would: a static segment before a `:param`, a
 * `:param` before a `*` (so `/strategies/templates` is its own resource, not `/strategies/{id}`).
 */
export class RouteTable {
  private readonly root = newNode();

  /** Adds a Fastify route (`/strategies/:id`, `/market-data/*`); HEAD comes with GET as Fastify serves it. */
  add(url: string, methods: string | readonly string[]): void {
    const ms = (typeof methods === 'string' ? [methods] : methods).map((m) => m.toUpperCase());
    if (ms.includes('GET')) ms.push('HEAD');
    let node = this.root;
    for (const seg of url.split('/').slice(1)) {
      if (seg === '*') {
        node.wildcard ??= new Set();
        for (const m of ms) node.wildcard.add(m);
        return;
      }
      if (seg.startsWith(':')) node = node.param ??= newNode();
      else {
        let next = node.statics.get(seg);
        if (!next) node.statics.set(seg, (next = newNode()));
        node = next;
      }
    }
    node.methods ??= new Set();
    for (const m of ms) node.methods.add(m);
  }

  /** Methods of the resource `path` (no query string) names, or undefined when it names none. */
  allowed(path: string): ReadonlySet<string> | undefined {
    return match(this.root, path.split('/'), 1);
  }
}

function match(node: RouteNode, segs: string[], i: number): ReadonlySet<string> | undefined {
  if (i === segs.length) return node.methods ?? node.wildcard;
  const seg = segs[i];
  const s = node.statics.get(seg);
  const viaStatic = s && match(s, segs, i + 1);
  if (viaStatic) return viaStatic;
  const viaParam = seg !== '' && node.param ? match(node.param, segs, i + 1) : undefined;
  return viaParam ?? node.wildcard;
}

/** The `Allow` header value of a method set, in a stable order. */
export function allowHeader(methods: ReadonlySet<string>): string {
  return [...methods].sort().join(', ');
}

/**
 * Answers methods a known path does not declare, in every Strata HTTP app (gateway, route owners, health-only apps):
 * `405 Method Not Allowed` problem+json with `Allow` naming the path's methods (RFC 9110 §15.5.6), and `OPTIONS` on a
 * path that declares no OPTIONS route with `204` and the same `Allow`. A path no route serves goes on to the 404
 * handler. Routes are collected as they are registered: call before the app's routes are (before `app.init()`).
 */
export function registerMethodNotAllowed(fastify: FastifyInstance): RouteTable {
  const table = new RouteTable();
  fastify.addHook('onRoute', (route) => table.add(route.url, route.method));
  fastify.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    const methods = table.allowed(path);
    if (!methods || methods.has(req.method)) return done();
    const allow = allowHeader(methods);
    if (req.method === 'OPTIONS') {
      void reply.code(204).header('allow', allow).send();
      return;
    }
    void reply
      .code(405)
      .header('allow', allow)
      .type(`${PROBLEM_JSON}; charset=utf-8`)
      .send(
        JSON.stringify({
          type: problemType('method-not-allowed'),
          title: statusTitle(405),
          status: 405,
          detail: `${req.method} is not allowed on ${path}; allowed: ${allow}.`,
          instance: path,
          requestId: String(req.id),
          allow: [...methods].sort(),
        }),
      );
  });
  return table;
}
