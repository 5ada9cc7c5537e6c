import type { OpenAPIObject } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { addProblemResponse, operationsOf } from './api-docs';
import { httpSubject, type ForwardedRequest, type ForwardedResponse, type HttpBusTransport } from './http-over-bus';

/** Options of {@link OwnerOpenApiDocuments}. */
export interface OwnerOpenApiOptions {
  /** The route owners whose documents are merged. */
  services: readonly string[];
  transport: HttpBusTransport;
  /** Budget of one fetch, ms. */
  timeoutMs: number;
  namespace?: string;
  logger?: Logger;
}

/**
 * The owners' OpenAPI documents as the gateway serves them: each fetched once through the same forwarding (`GET
 * /openapi.json` on `rpc.<service>.cmd.http.v1`) and cached; an owner that was down (or answered badly) is fetched
 * again on the next request for the document. {@link merge} lays the owners' paths and schemas over the gateway's own
 * document and lists under `x-strata-unavailable` the owners whose routes are missing from it.
 */
export class OwnerOpenApiDocuments {
  private readonly docs = new Map<string, OpenAPIObject>();
  private pending: Promise<void> | undefined;

  constructor(private readonly opts: OwnerOpenApiOptions) {}

  /** Fetches the documents not cached yet (one fetch at a time; concurrent callers share it). */
  refresh(): Promise<void> {
    if (this.docs.size === this.opts.services.length) return Promise.resolve();
    this.pending ??= this.fetchMissing().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchMissing(): Promise<void> {
    await Promise.all(
      this.opts.services
        .filter((s) => !this.docs.has(s))
        .map(async (service) => {
          try {
            const meta: ForwardedRequest = {
              method: 'GET',
              url: '/openapi.json',
              headers: { accept: 'application/json' },
            };
            const answer = await this.opts.transport.request(
              httpSubject(service, this.opts.namespace),
              { meta: JSON.stringify(meta), body: new Uint8Array(0) },
              this.opts.timeoutMs,
            );
            const res = JSON.parse(answer.meta) as ForwardedResponse;
            // A staged (very large) document is not expected: an owner's document is tens of KiB.
            if (res.status !== 200 || res.bodyRef) throw new Error(`status ${res.status}`);
            this.docs.set(service, JSON.parse(Buffer.from(answer.body).toString('utf8')) as OpenAPIObject);
          } catch (e) {
            this.opts.logger?.warn(
              { service, err: (e as Error).message },
              'OpenAPI document of an owner not available',
            );
          }
        }),
    );
  }

  /**
   * The gateway's document with every cached owner's paths (each operation also answering 503 naming the owner),
   * tags and component schemas added (the gateway's win).
   */
  merge(own: OpenAPIObject): OpenAPIObject {
    const paths = { ...own.paths };
    const schemas = { ...(own.components?.schemas ?? {}) };
    const tags = [...(own.tags ?? [])];
    const tagNames = new Set(tags.map((t) => t.name));
    for (const service of this.opts.services) {
      const doc = this.docs.get(service);
      if (!doc) continue;
      // The gateway answers 503 for any forwarded route whose owner is down or silent past the budget.
      const forwarded = structuredClone(doc.paths ?? {});
      for (const { op } of operationsOf({ paths: forwarded }))
        addProblemResponse(
          op,
          503,
          `The ${service} service is not available (down, or no answer within the budget); retry after Retry-After.`,
        );
      for (const [p, item] of Object.entries(forwarded)) if (!(p in paths)) paths[p] = item;
      for (const [n, s] of Object.entries(doc.components?.schemas ?? {})) if (!(n in schemas)) schemas[n] = s;
      for (const t of doc.tags ?? []) {
        if (tagNames.has(t.name)) continue;
        tagNames.add(t.name);
        tags.push(t);
      }
    }
    const unavailable = this.opts.services.filter((s) => !this.docs.has(s));
    return {
      ...own,
      paths,
      tags,
      components: { ...own.components, schemas },
      ...(unavailable.length ? { 'x-strata-unavailable': unavailable } : {}),
    } as OpenAPIObject;
  }
}
