/**
 * Shared helpers of the deployment validation tests (test/deploy/*.spec.ts): locating helm and a compose client,
 * rendering the chart, reading docker-compose.yml, and discovering the apps' environment schemas.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');
/** The chart directory. */
export const CHART_DIR = path.join(ROOT, 'helm', 'strata');
/** docker-compose.yml at the root. */
export const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

/**
 * Kubernetes version passed to `helm template`/`helm lint`. A helm built with `go install` (no release ldflags)
 * assumes v1.20, below the chart's kubeVersion, so the version is always given explicitly.
 */
export const KUBE_VERSION = '1.30.0';

/** The all-in-one app runs every service in one process and is not deployed as a service of its own. */
export const NOT_DEPLOYED_APPS = new Set(['platform']);

/** A Kubernetes object as rendered by helm. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

const announced = new Set<string>();
function loud(line: string): void {
  if (announced.has(line)) return;
  announced.add(line);
  process.stderr.write(`\n*** ${line} ***\n`);
}

function runs(bin: string, args: string[]): boolean {
  const r = spawnSync(bin, args, { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0;
}

/**
 * Finds helm: $HELM_BIN, then ~/.cache/strata-infra/bin/helm (where .ci/run installs it), then PATH.
 * Returns undefined when none runs; under REQUIRE_INFRA=1 that throws instead.
 */
export function findHelm(): string | undefined {
  const candidates = [
    process.env.HELM_BIN,
    path.join(process.env.STRATA_INFRA_BIN ?? path.join(os.homedir(), '.cache', 'strata-infra', 'bin'), 'helm'),
    'helm',
  ].filter((c): c is string => !!c);
  for (const c of candidates) if (runs(c, ['version', '--short'])) return c;
  if (process.env.REQUIRE_INFRA === '1') {
    throw new Error(
      `REQUIRE_INFRA=1 but no helm found (tried ${candidates.join(', ')}). .ci/run installs it; or set HELM_BIN.`,
    );
  }
  loud(
    'SKIPPED: helm chart tests (no helm: set HELM_BIN, or install with `GOBIN=~/.cache/strata-infra/bin go install helm.sh/helm/v3/cmd/helm@v3.22.0`)',
  );
  return undefined;
}

/**
 * Finds a compose client that can run `config` offline: $COMPOSE_BIN (a standalone `docker-compose`), then
 * ~/.cache/strata-infra/bin/docker-compose (where .ci/run builds it), then `docker compose` (plugin), then
 * `docker-compose` on PATH. Returns the command (program and leading arguments), or undefined when none runs (one loud
 * line); under REQUIRE_INFRA=1 that throws instead.
 */
export function findComposeClient(): string[] | undefined {
  const standalone = [
    process.env.COMPOSE_BIN,
    path.join(
      process.env.STRATA_INFRA_BIN ?? path.join(os.homedir(), '.cache', 'strata-infra', 'bin'),
      'docker-compose',
    ),
  ].filter((c): c is string => !!c);
  for (const c of standalone) if (runs(c, ['version'])) return [c];
  if (runs('docker', ['compose', 'version'])) return ['docker', 'compose'];
  if (runs('docker-compose', ['version'])) return ['docker-compose'];
  const tried = [...standalone, 'docker compose', 'docker-compose'].join(', ');
  if (process.env.REQUIRE_INFRA === '1') {
    throw new Error(
      `REQUIRE_INFRA=1 but no compose client runs (tried ${tried}). .ci/run builds one; or set COMPOSE_BIN.`,
    );
  }
  loud(`SKIPPED: \`compose config\` on docker-compose.yml (no compose client: tried ${tried}; set COMPOSE_BIN)`);
  return undefined;
}

/** Runs `helm template` on the chart and returns the rendered objects (empty documents dropped). */
export function helmTemplate(helm: string, setArgs: string[] = [], release = 'strata'): K8sObject[] {
  const out = execFileSync(
    helm,
    ['template', release, CHART_DIR, '--kube-version', KUBE_VERSION, ...setArgs.flatMap((s) => ['--set', s])],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    },
  );
  return parseAllDocuments(out)
    .map((d) => {
      if (d.errors.length) throw new Error(`helm template produced invalid YAML: ${d.errors[0].message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/** Runs helm and returns { status, output } instead of throwing. */
export function helmRun(helm: string, args: string[]): { status: number; output: string } {
  const r = spawnSync(helm, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** docker-compose.yml parsed with YAML merge keys (`<<`) resolved, as compose itself reads it. */
export function readCompose(): ComposeFile {
  return parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
}

/** The parts of a compose file these tests look at. */
export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}
export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  command?: string[] | string;
  environment?: Record<string, string> | string[];
  healthcheck?: { test?: string[] | string; interval?: string; retries?: number };
  depends_on?: Record<string, { condition?: string }> | string[];
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
}

/** Environment variable names a compose service sets (map or list form). */
export function composeEnvNames(svc: ComposeService): string[] {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) return env.map((e) => e.split('=')[0]);
  return Object.keys(env);
}

/** The compose services that run a Strata app: the ones built from deploy/Dockerfile, keyed by service name. */
export function composeAppServices(compose: ComposeFile): Record<string, ComposeService> {
  return Object.fromEntries(Object.entries(compose.services).filter(([, s]) => s.build?.args?.APP !== undefined));
}

/** helm/strata/values.yaml. */
export function readValues(): ChartValues {
  return parse(fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as ChartValues;
}
export interface ChartValues {
  nats: { url: string };
  mongodb: { uri: string };
  apiKeys: string;
  env: Record<string, unknown>;
  serviceDefaults: { port: number; env: Record<string, unknown>; [key: string]: unknown };
  services: Record<string, { env?: Record<string, unknown>; enabled?: boolean; [key: string]: unknown } | null>;
  [key: string]: unknown;
}

/**
 * Environment variables that the chart's values provide under other keys (see the table at the top of
 * helm/strata/values.yaml); every other variable is a key of `env` or `services.<name>.env` as is.
 */
export const VALUES_ALIASES: Record<string, string> = {
  NATS_URL: 'nats.url',
  MONGODB_URI: 'mongodb.uri',
  STRATA_API_KEYS: 'apiKeys',
  PORT: 'services.<name>.port',
};

/** Variables the chart values give to service `name` (undefined name: the shared ones only). */
export function valuesEnvNames(values: ChartValues, name?: string): string[] {
  const own = name ? Object.keys(values.services[name]?.env ?? {}) : [];
  return [
    ...new Set([
      ...Object.keys(VALUES_ALIASES),
      ...Object.keys(values.env ?? {}),
      ...Object.keys(values.serviceDefaults.env ?? {}),
      ...own,
    ]),
  ];
}

/** Apps under apps/ (folders with src/main.ts), sorted. */
export function discoverApps(): string[] {
  const dir = path.join(ROOT, 'apps');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((a) => fs.existsSync(path.join(dir, a, 'src', 'main.ts')))
    .sort();
}

/** Apps deployed as services of their own by docker-compose and helm. */
export function deployableApps(): string[] {
  return discoverApps().filter((a) => !NOT_DEPLOYED_APPS.has(a));
}

/**
 * Keys of the zod object schema an app exports as `ConfigSchema` from apps/<app>/src/config.ts: the environment
 * variables it parses. Unwraps pipes/transforms/defaults (zod 4 and zod 3) down to the object.
 */
export function configSchemaKeys(app: string): string[] {
  const file = path.join(ROOT, 'apps', app, 'src', 'config.ts');
  if (!fs.existsSync(file))
    throw new Error(`apps/${app}/src/config.ts is missing: every app exports its env schema there as ConfigSchema`);
  // A config.ts that parses the environment at import time would exit the test process: make that readable.
  const exit = process.exit;
  process.exit = ((code?: number) => {
    throw new Error(
      `importing apps/${app}/src/config.ts called process.exit(${code}): parse the environment in main.ts, not at import`,
    );
  }) as typeof process.exit;
  let mod: { ConfigSchema?: unknown };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file);
  } finally {
    process.exit = exit;
  }
  if (!mod.ConfigSchema) throw new Error(`apps/${app}/src/config.ts does not export ConfigSchema`);
  const keys = objectKeys(mod.ConfigSchema, 0);
  if (!keys)
    throw new Error(`apps/${app}/src/config.ts: ConfigSchema is not a zod object schema (or a pipe/transform of one)`);
  return keys;
}

interface SchemaLike {
  shape?: Record<string, unknown>;
  in?: unknown;
  def?: { in?: unknown; innerType?: unknown; schema?: unknown };
  _def?: { schema?: unknown; innerType?: unknown; in?: unknown };
}

function objectKeys(schema: unknown, depth: number): string[] | undefined {
  if (!schema || typeof schema !== 'object' || depth > 8) return undefined;
  const s = schema as SchemaLike;
  if (s.shape && typeof s.shape === 'object') return Object.keys(s.shape);
  for (const inner of [
    s.in,
    s.def?.in,
    s.def?.innerType,
    s.def?.schema,
    s._def?.schema,
    s._def?.innerType,
    s._def?.in,
  ]) {
    const k = objectKeys(inner, depth + 1);
    if (k) return k;
  }
  return undefined;
}
