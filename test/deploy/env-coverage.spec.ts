/**
 * Configuration stays in step across the apps, docker-compose.yml and the helm chart.
 *
 * Convention: every app exports its zod environment schema as `ConfigSchema` from apps/<app>/src/config.ts; its
 * keys are the environment variables the app parses. This test checks that
 * - the deployable apps (apps/* except the all-in-one `platform`) are exactly the Strata services of
 *   docker-compose.yml and of helm/strata/values.yaml;
 * - every variable an app parses is set for that app's service in docker-compose.yml, provided by the chart's values,
 *   and present in the rendered Deployment's container (env, or envFrom ConfigMap/Secret keys);
 * - every variable that compose or the chart sets is parsed by some app, or is one of issue 2's fixed names
 *   (a misspelt variable would otherwise be silently ignored).
 */
import {
  type K8sObject,
  VALUES_ALIASES,
  composeAppServices,
  composeEnvNames,
  configSchemaKeys,
  deployableApps,
  discoverApps,
  findHelm,
  helmTemplate,
  readCompose,
  readValues,
  valuesEnvNames,
} from './deploy-tools';

/** Names issue 2 fixes for scripts and clients; compose and the chart may set them before an app reads them. */
const CONTRACT_ENV = [
  'PORT',
  'STRATA_DATA_DIR',
  'STRATA_API_KEYS',
  'NATS_URL',
  'MONGODB_URI',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'LOG_LEVEL',
];

const compose = readCompose();
const values = readValues();
const apps = discoverApps();
const parsed: Record<string, string[]> = Object.fromEntries(apps.map((a) => [a, safeKeys(a)]));

function safeKeys(app: string): string[] {
  try {
    return configSchemaKeys(app);
  } catch {
    return []; // reported by the "exports ConfigSchema" test below
  }
}

function missing(needed: string[], have: string[]): string[] {
  const set = new Set(have);
  return needed.filter((n) => !set.has(n));
}

describe('environment variables: apps, docker-compose.yml and helm values agree', () => {
  it('has apps to check', () => {
    expect(apps.length).toBeGreaterThan(0);
  });

  for (const app of apps) {
    it(`apps/${app}/src/config.ts exports ConfigSchema (a zod object of the variables it parses)`, () => {
      const keys = configSchemaKeys(app);
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(k).toMatch(/^[A-Z][A-Z0-9_]*$/);
    });
  }

  it('deploys exactly the apps that exist: compose services and helm services match apps/ (without platform)', () => {
    expect(Object.keys(composeAppServices(compose)).sort()).toEqual(deployableApps());
    expect(Object.keys(values.services).sort()).toEqual(deployableApps());
  });

  for (const app of deployableApps()) {
    it(`docker-compose.yml sets every variable ${app} parses`, () => {
      const svc = composeAppServices(compose)[app];
      expect({ app, missing: missing(parsed[app], svc ? composeEnvNames(svc) : []) }).toEqual({ app, missing: [] });
    });

    it(`helm values provide every variable ${app} parses`, () => {
      expect({ app, missing: missing(parsed[app], valuesEnvNames(values, app)) }).toEqual({ app, missing: [] });
    });
  }

  it('every variable any app parses (the all-in-one platform too) appears in docker-compose.yml and the helm values', () => {
    const all = [...new Set(Object.values(parsed).flat())].sort();
    const inCompose = Object.values(compose.services).flatMap(composeEnvNames);
    const inValues = [
      ...valuesEnvNames(values),
      ...Object.keys(values.services).flatMap((s) => valuesEnvNames(values, s)),
    ];
    expect({ compose: missing(all, inCompose), values: missing(all, inValues) }).toEqual({ compose: [], values: [] });
  });

  it('sets no variable that no app parses, apart from the names fixed by issue 2', () => {
    const known = new Set([...Object.values(parsed).flat(), ...CONTRACT_ENV]);
    const composeVars = Object.values(composeAppServices(compose)).flatMap(composeEnvNames);
    const valuesVars = [
      ...Object.keys(values.env ?? {}),
      ...Object.values(values.services).flatMap((s) => Object.keys(s?.env ?? {})),
    ];
    expect({
      compose: [...new Set(composeVars)].filter((v) => !known.has(v)),
      values: valuesVars.filter((v) => !known.has(v)),
    }).toEqual({
      compose: [],
      values: [],
    });
    expect(Object.keys(VALUES_ALIASES).every((v) => CONTRACT_ENV.includes(v))).toBe(true);
  });

  const helm = findHelm();
  (helm ? it : it.skip)(
    'the rendered chart gives each workload (Deployment / StatefulSet) every variable its app parses',
    () => {
      // Empty values are left out of the ConfigMap/Secret on purpose (unset, not ""): fill them to see the wiring.
      const fill = [
        'apiKeys=admin:test-key',
        ...Object.entries(values.env ?? {})
          .filter(([, v]) => v === '' || v === null)
          .map(([k]) => `env.${k}=x`),
      ];
      const objects = helmTemplate(helm as string, fill);
      const dataKeys = (kind: string, name: string): string[] => {
        const o = objects.find((x) => x.kind === kind && x.metadata.name === name) as
          (K8sObject & { data?: object; stringData?: object }) | undefined;
        return o ? [...Object.keys(o.data ?? {}), ...Object.keys(o.stringData ?? {})] : [];
      };
      type Container = {
        env?: { name: string }[];
        envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
      };
      for (const app of deployableApps()) {
        const d = objects.find(
          (o) =>
            (o.kind === 'Deployment' || o.kind === 'StatefulSet') &&
            o.metadata.labels?.['app.kubernetes.io/component'] === app,
        ) as (K8sObject & { spec: { template: { spec: { containers: Container[] } } } }) | undefined;
        expect({ app, deployment: !!d }).toEqual({ app, deployment: true });
        const c = d!.spec.template.spec.containers[0];
        const names = [
          ...(c.env ?? []).map((e) => e.name),
          ...(c.envFrom ?? []).flatMap((f) =>
            f.configMapRef
              ? dataKeys('ConfigMap', f.configMapRef.name)
              : f.secretRef
                ? dataKeys('Secret', f.secretRef.name)
                : [],
          ),
        ];
        expect({ app, missing: missing(parsed[app], names) }).toEqual({ app, missing: [] });
      }
    },
  );
});
