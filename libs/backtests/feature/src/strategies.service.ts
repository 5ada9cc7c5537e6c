import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  DuplicateKeyError,
  type DocumentCollection,
  type DocumentStore,
  type StoredDocument,
} from '@strata/platform-contracts';
import {
  type CreateStrategyBody,
  type CreateStrategyFromTemplateBody,
  type StrategyDefinition,
  type StrategyDto,
  type StrategyTemplateDto,
  type StrategyVersionDto,
  type UpdateStrategyBody,
} from '@strata/backtests-contracts';
import {
  DEFAULT_STRATEGY_CATALOG,
  instantiateTemplate,
  STRATEGY_TEMPLATES,
  strategyTemplate,
  validateStrategyDefinition,
  type StrategyCatalog,
  type StrategyIssue,
} from '@strata/backtests-domain';
import { uuidv7 } from '@strata/shared-util';
import { createHash } from 'node:crypto';
import { STRATEGY_CATALOG } from './strategies.tokens';

/** Head document of a strategy (collection `strategies`). */
interface StrategyHead {
  name: string;
  description: string;
  latestVersion: number;
  template: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One immutable version (collection `strategy_versions`, unique on strategyId + version). */
interface StrategyVersionDoc {
  strategyId: string;
  version: number;
  definition: StrategyDefinition;
  definitionHash: string;
  note: string | null;
  createdAt: string;
}

/** The definition refers to a future value, an unknown feature, … (HTTP 422). */
export class InvalidStrategyError extends Error {
  constructor(readonly issues: StrategyIssue[]) {
    super(`invalid strategy definition: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidStrategyError';
  }
}

/** No such strategy, version or template (HTTP 404). */
export class StrategyNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StrategyNotFoundError';
  }
}

/** Another version was saved since the client's `baseVersion` (HTTP 409). */
export class StrategyVersionConflictError extends Error {
  constructor(
    readonly strategyId: string,
    readonly baseVersion: number,
    readonly latestVersion: number,
  ) {
    super(
      `strategy ${strategyId} is at version ${latestVersion}, not ${baseVersion}: reload it and apply your change again`,
    );
    this.name = 'StrategyVersionConflictError';
  }
}

/** Canonical JSON (object keys sorted at every level). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** SHA-256 (hex) of the canonical JSON of a definition: equal hashes = the same strategy. */
export function definitionHash(d: StrategyDefinition): string {
  return createHash('sha256').update(canonicalJson(d)).digest('hex');
}

const MAX_VERSION_ATTEMPTS = 20;

/**
 * Strategies with immutable versions, in the document store: every update appends a version (the unique index on
 * (strategyId, version) arbitrates concurrent writers) and moves the head's `latestVersion`. Definitions are checked
 * beyond their schema before anything is stored ({@link validateStrategyDefinition}: no future reference, only known
 * features, signals, regimes and parameters).
 */
@Injectable()
export class StrategiesService {
  private readonly heads: DocumentCollection<StrategyHead>;
  private readonly versions: DocumentCollection<StrategyVersionDoc>;

  constructor(
    @Inject(DOCUMENT_STORE) store: DocumentStore,
    @Optional() @Inject(STRATEGY_CATALOG) private readonly catalog: StrategyCatalog = DEFAULT_STRATEGY_CATALOG,
  ) {
    this.heads = store.collection<StrategyHead>({ name: 'strategies', indexes: [{ fields: ['updatedAt'] }] });
    this.versions = store.collection<StrategyVersionDoc>({
      name: 'strategy_versions',
      indexes: [{ fields: ['strategyId', 'version'], unique: true }],
    });
  }

  /** Throws {@link InvalidStrategyError} unless the definition (with parameter overrides) is valid. */
  validate(definition: StrategyDefinition, params: Readonly<Record<string, number>> = {}): void {
    const issues = validateStrategyDefinition(definition, this.catalog ?? DEFAULT_STRATEGY_CATALOG, params);
    if (issues.length) throw new InvalidStrategyError(issues);
  }

  /** The templates shipped with the platform. */
  templates(): StrategyTemplateDto[] {
    return STRATEGY_TEMPLATES.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      definition: t.definition,
    }));
  }

  /** Creates a strategy at version 1. */
  async create(body: CreateStrategyBody, template: string | null = null): Promise<StrategyDto> {
    this.validate(body.definition);
    const id = uuidv7();
    const now = new Date().toISOString();
    const version = await this.versions.insert(this.versionDoc(id, 1, body.definition, null, now));
    const head = await this.heads.insert({
      id,
      name: body.name,
      description: body.description,
      latestVersion: 1,
      template,
      createdAt: now,
      updatedAt: now,
    });
    return this.dto(head, version);
  }

  /** Creates a strategy from a template (symbols and parameters optionally replaced). */
  async createFromTemplate(body: CreateStrategyFromTemplateBody): Promise<StrategyDto> {
    const t = strategyTemplate(body.template);
    if (!t)
      throw new StrategyNotFoundError(
        `no template named ${body.template} (templates: ${STRATEGY_TEMPLATES.map((x) => x.name).join(', ')})`,
      );
    if (body.params) {
      const unknown = Object.keys(body.params).filter((k) => !(k in t.definition.params));
      if (unknown.length) {
        throw new InvalidStrategyError(
          unknown.map((k) => ({
            path: `params.${k}`,
            reason: 'unknown_param',
            message: `template ${t.name} has no parameter ${k}`,
          })),
        );
      }
    }
    const definition = instantiateTemplate(t, { symbols: body.symbols, params: body.params });
    return this.create({ name: body.name ?? t.title, description: t.description, definition }, t.name);
  }

  /** Appends a version (and optionally renames). `baseVersion`, when given, must be the latest version. */
  async update(id: string, body: UpdateStrategyBody): Promise<StrategyDto> {
    this.validate(body.definition);
    let head = await this.head(id);
    if (body.baseVersion !== undefined && body.baseVersion !== head.latestVersion)
      throw new StrategyVersionConflictError(id, body.baseVersion, head.latestVersion);
    const now = new Date().toISOString();
    let saved: StoredDocument<StrategyVersionDoc> | undefined;
    for (let attempt = 0; !saved; attempt++) {
      // The next version after the highest stored one (the head may lag behind a concurrent writer).
      const top = await this.versions.page({
        filter: { strategyId: id },
        sort: { field: 'version', direction: 'desc' },
        limit: 1,
      });
      const next = Math.max(head.latestVersion, top.items[0]?.version ?? 0) + 1;
      if (body.baseVersion !== undefined && next !== body.baseVersion + 1)
        throw new StrategyVersionConflictError(id, body.baseVersion, next - 1);
      try {
        saved = await this.versions.insert(this.versionDoc(id, next, body.definition, body.note ?? null, now));
      } catch (e) {
        if (!(e instanceof DuplicateKeyError) || attempt >= MAX_VERSION_ATTEMPTS) throw e;
        if (body.baseVersion !== undefined) throw new StrategyVersionConflictError(id, body.baseVersion, next);
        head = await this.head(id);
      }
    }
    const version = saved;
    const updated = await this.heads.updateWithRetry(id, (cur) => ({
      set: {
        latestVersion: Math.max(cur.latestVersion, version.version),
        updatedAt: now,
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
      },
    }));
    return this.dto(
      updated,
      updated.latestVersion === version.version ? version : await this.version(id, updated.latestVersion),
    );
  }

  /** A strategy with its latest version; {@link StrategyNotFoundError} when missing. */
  async get(id: string): Promise<StrategyDto> {
    const head = await this.head(id);
    return this.dto(head, await this.version(id, head.latestVersion));
  }

  /** One page of strategies, most recently updated first. */
  async list(req: { limit: number; cursor?: string }): Promise<{ items: StrategyDto[]; nextCursor: string | null }> {
    const page = await this.heads.page({
      sort: { field: 'updatedAt', direction: 'desc' },
      limit: req.limit,
      cursor: req.cursor ?? null,
    });
    const items = await Promise.all(
      page.items.map(async (h) => this.dto(h, await this.version(h.id, h.latestVersion))),
    );
    return { items, nextCursor: page.nextCursor };
  }

  /** One page of a strategy's versions, newest first. */
  async listVersions(
    id: string,
    req: { limit: number; cursor?: string },
  ): Promise<{ items: StrategyVersionDto[]; nextCursor: string | null }> {
    await this.head(id);
    const page = await this.versions.page({
      filter: { strategyId: id },
      sort: { field: 'version', direction: 'desc' },
      limit: req.limit,
      cursor: req.cursor ?? null,
    });
    return { items: page.items.map(versionDto), nextCursor: page.nextCursor };
  }

  /** One version; {@link StrategyNotFoundError} when missing. */
  async getVersion(id: string, version: number): Promise<StrategyVersionDto> {
    await this.head(id);
    return versionDto(await this.version(id, version));
  }

  /** Deletes a strategy and all its versions (backtests keep their own frozen copy of the definition). */
  async delete(id: string): Promise<void> {
    const deleted = await this.heads.delete(id);
    await this.versions.deleteMany({ strategyId: id });
    if (!deleted) throw new StrategyNotFoundError(`no strategy ${id}`);
  }

  private async head(id: string): Promise<StoredDocument<StrategyHead>> {
    const h = await this.heads.get(id);
    if (!h) throw new StrategyNotFoundError(`no strategy ${id}`);
    return h;
  }

  private async version(id: string, version: number): Promise<StoredDocument<StrategyVersionDoc>> {
    const v = await this.versions.findOne({ strategyId: id, version });
    if (!v) throw new StrategyNotFoundError(`strategy ${id} has no version ${version}`);
    return v;
  }

  private versionDoc(
    strategyId: string,
    version: number,
    definition: StrategyDefinition,
    note: string | null,
    createdAt: string,
  ): StrategyVersionDoc {
    return { strategyId, version, definition, definitionHash: definitionHash(definition), note, createdAt };
  }

  private dto(h: StoredDocument<StrategyHead>, v: StoredDocument<StrategyVersionDoc>): StrategyDto {
    return {
      id: h.id,
      name: h.name,
      description: h.description,
      latestVersion: h.latestVersion,
      template: h.template,
      createdAt: h.createdAt,
      updatedAt: h.updatedAt,
      latest: versionDto(v),
    };
  }
}

function versionDto(v: StoredDocument<StrategyVersionDoc>): StrategyVersionDto {
  return {
    strategyId: v.strategyId,
    version: v.version,
    definition: v.definition,
    definitionHash: v.definitionHash,
    note: v.note,
    createdAt: v.createdAt,
  };
}
