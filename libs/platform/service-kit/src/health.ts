import { Controller, Get, Inject, Module, Optional, Res, type DynamicModule } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { DocumentStore, EventBus } from '@strata/platform-contracts';
import { Public, zodToOpenApi } from '@strata/platform-http';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';

/** State of one dependency (bus, store …) as seen by this process. */
export interface DependencyHealth {
  status: 'up' | 'down';
  /** Adapter or kind, e.g. `jetstream`, `in-process`, `duckdb`. */
  adapter?: string;
  detail?: string;
}

/** Something readiness depends on. `check` should answer within a second; it is cut off after {@link CHECK_TIMEOUT_MS}. */
export interface HealthIndicator {
  readonly name: string;
  check(): Promise<DependencyHealth> | DependencyHealth;
}

/** Injection token of the {@link HealthIndicator} list. */
export const HEALTH_INDICATORS = Symbol('HEALTH_INDICATORS');
/** Longest a dependency check may take before it counts as down, ms. */
export const CHECK_TIMEOUT_MS = 2000;
/**
 * How long one round of dependency checks answers readiness, ms (default of {@link HealthModule.register}'s
 * `maxAgeMs`): probes and load balancers polling `/health` many times a second cost one check per second, and the
 * state reported is never older than this. Concurrent requests share one round in flight.
 */
export const READINESS_MAX_AGE_MS = 1000;
/** Injection token of the readiness cache age, ms (optional; {@link READINESS_MAX_AGE_MS} when absent). */
export const HEALTH_MAX_AGE_MS = Symbol('HEALTH_MAX_AGE_MS');

/** The bus as a health indicator (`bus`: adapter and connection state). */
export function busHealthIndicator(bus: EventBus): HealthIndicator {
  return {
    name: 'bus',
    check: () => {
      const h = bus.health();
      return { status: h.status, adapter: h.adapter, ...(h.detail ? { detail: h.detail } : {}) };
    },
  };
}

/**
 * The document store as a health indicator (`store`): `adapter` is `duckdb` (embedded, detail `embedded`) or
 * `mongodb` (detail `database <name>`); when down, `detail` says why (the ping failed or timed out).
 */
export function storeHealthIndicator(store: DocumentStore): HealthIndicator {
  return {
    name: 'store',
    check: async () => {
      const h = await store.health();
      const adapter = h.adapter === 'mongo' ? 'mongodb' : h.adapter;
      if (h.status === 'down') return { status: 'down', adapter, ...(h.detail ? { detail: h.detail } : {}) };
      // Up: name the mode, not the file path (this endpoint is public).
      return {
        status: 'up',
        adapter,
        detail: h.adapter === 'duckdb' ? 'embedded' : `database ${h.detail ?? ''}`.trim(),
      };
    },
  };
}

/** Health report: liveness (the process answers) and readiness (every dependency is up). */
export interface HealthReport {
  status: 'up' | 'down';
  service: string;
  /** Seconds since the process started. */
  uptimeSeconds: number;
  liveness: { status: 'up' };
  readiness: Readiness;
}

/** Readiness: every dependency's state as of `checkedAt` (ISO-8601 UTC; at most the cache age ago, see {@link READINESS_MAX_AGE_MS}). */
export interface Readiness {
  status: 'up' | 'down';
  dependencies: Record<string, DependencyHealth>;
  checkedAt: string;
}

const UpSchema = z.enum(['up', 'down']);
/** JSON Schema source of {@link Readiness} (the OpenAPI answers of `/health/ready`). */
const ReadinessSchema = z.object({
  status: UpSchema,
  dependencies: z.record(
    z.string(),
    z.object({ status: UpSchema, adapter: z.string().optional(), detail: z.string().optional() }),
  ),
  checkedAt: z.iso.datetime(),
});
/** JSON Schema source of {@link HealthReport} (the OpenAPI answers of `/health`). */
const HealthReportSchema = z.object({
  status: UpSchema,
  service: z.string(),
  uptimeSeconds: z.number().int().nonnegative(),
  liveness: z.object({ status: z.literal('up') }),
  readiness: ReadinessSchema,
});
const report = zodToOpenApi(HealthReportSchema) as never;
const readinessDoc = zodToOpenApi(ReadinessSchema) as never;

const HEALTH_SERVICE = Symbol('HEALTH_SERVICE');

async function checkOne(ind: HealthIndicator): Promise<DependencyHealth> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve(ind.check()),
      new Promise<DependencyHealth>((resolve) => {
        timer = setTimeout(
          () => resolve({ status: 'down', detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (e) {
    return { status: 'down', detail: (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Public health endpoints: `GET /health` (full report; 200 when ready, 503 when a dependency is down),
 * `GET /health/live` (200 while the process serves HTTP: for liveness probes) and `GET /health/ready` (200/503).
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  /** The last round of checks: when it started, and its result (pending while in flight). */
  private last: { startedAt: number; readiness: Promise<Readiness> } | undefined;
  private readonly maxAgeMs: number;

  constructor(
    @Inject(HEALTH_INDICATORS) private readonly indicators: HealthIndicator[],
    @Inject(HEALTH_SERVICE) private readonly service: string,
    @Optional() @Inject(HEALTH_MAX_AGE_MS) maxAgeMs?: number,
  ) {
    this.maxAgeMs = maxAgeMs ?? READINESS_MAX_AGE_MS;
  }

  /**
   * Readiness: the round of checks started less than the cache age ago (or still in flight), else a new round that
   * runs every indicator (concurrently, each with a timeout).
   */
  readiness(): Promise<Readiness> {
    const now = Date.now();
    if (this.last && now - this.last.startedAt < this.maxAgeMs) return this.last.readiness;
    const readiness = this.checkAll(now);
    this.last = { startedAt: now, readiness };
    return readiness;
  }

  private async checkAll(startedAt: number): Promise<Readiness> {
    const results = await Promise.all(this.indicators.map(async (i) => [i.name, await checkOne(i)] as const));
    const ready = results.every(([, r]) => r.status === 'up');
    return {
      status: ready ? 'up' : 'down',
      dependencies: Object.fromEntries(results),
      checkedAt: new Date(startedAt).toISOString(),
    };
  }

  /** The full report: liveness, and readiness at most the cache age old. */
  async report(): Promise<HealthReport> {
    const readiness = await this.readiness();
    return {
      status: readiness.status,
      service: this.service,
      uptimeSeconds: Math.round(process.uptime()),
      liveness: { status: 'up' },
      readiness,
    };
  }

  @Get()
  @ApiOperation({ summary: 'Liveness and readiness, naming each dependency and its state' })
  @ApiOkResponse({ description: 'Ready: every dependency is up.', schema: report })
  @ApiServiceUnavailableResponse({
    description: 'Alive but not ready: the body names the dependency that is down.',
    content: { 'application/json': { schema: report } },
  })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const r = await this.report();
    void reply.status(r.status === 'up' ? 200 : 503);
    return r;
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process answers' })
  @ApiOkResponse({
    description: 'The process answers.',
    schema: zodToOpenApi(z.object({ status: z.literal('up') })) as never,
  })
  live(): { status: 'up' } {
    return { status: 'up' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: 200 when every dependency is up, else 503' })
  @ApiOkResponse({ description: 'Every dependency is up.', schema: readinessDoc })
  @ApiServiceUnavailableResponse({
    description: 'A dependency is down (named in the body).',
    content: { 'application/json': { schema: readinessDoc } },
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    const r = await this.readiness();
    void reply.status(r.status === 'up' ? 200 : 503);
    return r;
  }
}

/**
 * The health endpoints for any Strata HTTP process (gateway and the small HTTP side of each service). `maxAgeMs`:
 * how long one round of dependency checks answers readiness (default {@link READINESS_MAX_AGE_MS}; 0: every call checks).
 */
@Module({})
export class HealthModule {
  static register(opts: { service: string; indicators: HealthIndicator[]; maxAgeMs?: number }): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [
        { provide: HEALTH_INDICATORS, useValue: opts.indicators },
        { provide: HEALTH_SERVICE, useValue: opts.service },
        { provide: HEALTH_MAX_AGE_MS, useValue: opts.maxAgeMs ?? READINESS_MAX_AGE_MS },
      ],
    };
  }
}
