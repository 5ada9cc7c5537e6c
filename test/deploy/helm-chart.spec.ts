/**
 * helm/strata: `helm lint`, `helm template`, every rendered manifest validated offline against the Kubernetes
 * schemas (types and unknown fields), and the chart's promises checked on the rendered objects: a Deployment per
 * service (a StatefulSet with one replica and a PersistentVolumeClaim for marketdata, the single DuckDB writer) with
 * /health probes and resources, a Service and a PodDisruptionBudget each, an HPA for the workers, KEDA ScaledObjects
 * when asked, configuration through a ConfigMap and a Secret.
 *
 * Needs helm ($HELM_BIN, ~/.cache/strata-infra/bin/helm or PATH); skipped with one loud line without it, and a
 * failure instead under REQUIRE_INFRA=1 (.ci/run installs helm).
 */
import { CHART_DIR, KUBE_VERSION, type K8sObject, findHelm, helmRun, helmTemplate, readValues } from './deploy-tools';
import { findUnknownFields, validateManifests, validateSchemas } from './k8s-validate';

const helm = findHelm();
const describeHelm = helm ? describe : describe.skip;

function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** Deployments and StatefulSets: one per service. */
function workloads(objects: K8sObject[]): DeploymentView[] {
  return objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet') as DeploymentView[];
}

const component = (o: K8sObject): string | undefined => o.metadata.labels?.['app.kubernetes.io/component'];

// Structural views of the rendered objects, enough for the assertions below.
interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}
interface DeploymentView extends K8sObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    volumeClaimTemplates?: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }[];
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        containers: (Container & { volumeMounts?: { name: string; mountPath: string }[] })[];
        securityContext?: { runAsNonRoot?: boolean };
        volumes?: { name: string; emptyDir?: object }[];
      };
    };
  };
}
interface SelectorView extends K8sObject {
  spec: { selector: { matchLabels?: Record<string, string> } | Record<string, string> };
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

describeHelm('helm chart helm/strata', () => {
  const h = helm as string;
  let objects: K8sObject[];

  beforeAll(() => {
    objects = helmTemplate(h);
  });

  it('passes helm lint --strict', () => {
    const r = helmRun(h, ['lint', CHART_DIR, '--strict', '--kube-version', KUBE_VERSION]);
    expect(r.output).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it('renders only known kinds, each valid against the Kubernetes schema with no unknown fields', () => {
    expect(objects.length).toBeGreaterThan(0);
    expect(validateManifests(objects)).toEqual([]);
  });

  it('renders one workload per enabled service in values.yaml: a StatefulSet for marketdata, Deployments otherwise', () => {
    const services = Object.keys(readValues().services).sort();
    expect(workloads(objects).map(component).sort()).toEqual(services);
    expect(byKind(objects, 'StatefulSet').map(component)).toEqual(['marketdata']);
  });

  it('runs marketdata, the single DuckDB writer, as ONE replica with a PersistentVolumeClaim at the data directory', () => {
    const md = byKind(objects, 'StatefulSet')[0] as DeploymentView;
    expect(md.spec.replicas).toBe(1);
    const svc = byKind(objects, 'Service').find((s) => component(s) === 'marketdata')!;
    expect(md.spec.serviceName).toBe(svc.metadata.name);
    expect(md.spec.volumeClaimTemplates?.map((v) => v.metadata.name)).toEqual(['data']);
    const pod = md.spec.template.spec;
    expect(pod.volumes?.find((v) => v.name === 'data')).toBeUndefined();
    const dataDir = (readValues() as unknown as { env: { STRATA_DATA_DIR: string } }).env.STRATA_DATA_DIR;
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: dataDir });
    // No HPA for it, and the chart refuses a second replica or an HPA.
    const hpas = byKind(objects, 'HorizontalPodAutoscaler') as (K8sObject & {
      spec: { scaleTargetRef: { name: string } };
    })[];
    expect(hpas.map((h) => h.spec.scaleTargetRef.name)).not.toContain(md.metadata.name);
    const two = helmRun(h, [
      'template',
      'strata',
      CHART_DIR,
      '--kube-version',
      KUBE_VERSION,
      '--set',
      'services.marketdata.replicas=2',
    ]);
    expect(two.status).not.toBe(0);
    expect(two.output).toContain('exactly 1 replica');
    const hpa = helmRun(h, [
      'template',
      'strata',
      CHART_DIR,
      '--kube-version',
      KUBE_VERSION,
      '--set',
      'services.marketdata.hpa.enabled=true',
    ]);
    expect(hpa.status).not.toBe(0);
    expect(hpa.output).toContain('cannot have an HPA');
  });

  it("renders KEDA ScaledObjects on the workers' JetStream consumers when asked, in place of their HPAs", () => {
    expect(byKind(objects, 'ScaledObject')).toEqual([]);
    const rendered = helmTemplate(h, [
      'keda.enabled=true',
      'keda.natsMonitoringEndpoint=nats.nats.svc:8222',
      'services.backtests.keda.enabled=true',
      'services.signals.keda.enabled=true',
    ]);
    const scaled = byKind(rendered, 'ScaledObject') as (K8sObject & {
      apiVersion: string;
      spec: {
        scaleTargetRef: { kind: string; name: string };
        minReplicaCount: number;
        triggers: { type: string; metadata: Record<string, string> }[];
      };
    })[];
    expect(scaled.map(component).sort()).toEqual(['backtests', 'signals']);
    for (const so of scaled) {
      expect(so.apiVersion).toBe('keda.sh/v1alpha1');
      expect(so.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: so.metadata.name });
      expect(so.spec.triggers[0]).toMatchObject({
        type: 'nats-jetstream',
        metadata: { natsServerMonitoringEndpoint: 'nats.nats.svc:8222', account: '$G' },
      });
    }
    const bt = scaled.find((s) => component(s) === 'backtests')!;
    expect(bt.spec.triggers[0].metadata).toMatchObject({
      stream: 'BACKTEST',
      consumer: 'backtests__backtest_cmd_run__v1',
    });
    const hpaTargets = (
      byKind(rendered, 'HorizontalPodAutoscaler') as (K8sObject & { spec: { scaleTargetRef: { name: string } } })[]
    ).map((x) => x.spec.scaleTargetRef.name);
    for (const so of scaled) expect(hpaTargets).not.toContain(so.metadata.name);
    // Everything else still validates (ScaledObject is a CRD the offline validator does not know).
    expect(validateManifests(rendered.filter((o) => o.kind !== 'ScaledObject'))).toEqual([]);
    // The monitoring endpoint is required.
    expect(
      helmRun(h, [
        'template',
        'strata',
        CHART_DIR,
        '--kube-version',
        KUBE_VERSION,
        '--set',
        'keda.enabled=true',
        '--set',
        'services.backtests.keda.enabled=true',
      ]).output,
    ).toContain('keda.natsMonitoringEndpoint');
  });

  it('gives each Deployment /health/live liveness and /health/ready readiness probes, resources, a non-root pod and shared config', () => {
    const configMap = byKind(objects, 'ConfigMap')[0];
    const secret = byKind(objects, 'Secret')[0];
    expect(configMap).toBeDefined();
    expect(secret).toBeDefined();
    for (const d of workloads(objects)) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.containers).toHaveLength(1);
      const c = pod.containers[0];
      const port = c.ports?.find((p) => p.name === 'http');
      expect(port).toBeDefined();
      expect(c.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(c.readinessProbe?.httpGet?.path).toBe('/health/ready');
      for (const probe of [c.livenessProbe, c.readinessProbe]) expect(probe?.httpGet?.port).toBe('http');
      expect(c.env?.find((e) => e.name === 'PORT')?.value).toBe(String(port?.containerPort));
      expect(c.resources?.requests?.cpu).toBeDefined();
      expect(c.resources?.requests?.memory).toBeDefined();
      expect(c.resources?.limits?.memory).toBeDefined();
      expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(c.envFrom?.map((e) => e.configMapRef?.name ?? e.secretRef?.name)).toEqual([
        configMap.metadata.name,
        secret.metadata.name,
      ]);
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    }
  });

  it('selects each workload by exactly one Service and one PodDisruptionBudget', () => {
    const deployments = workloads(objects);
    for (const kind of ['Service', 'PodDisruptionBudget']) {
      const selectors = (byKind(objects, kind) as SelectorView[]).map((o) => {
        const s = o.spec.selector as { matchLabels?: Record<string, string> } & Record<string, string>;
        return (kind === 'Service' ? s : s.matchLabels) as Record<string, string>;
      });
      for (const d of deployments) {
        expect({
          kind,
          deployment: d.metadata.name,
          count: selectors.filter((s) => matches(s, d.spec.template.metadata.labels)).length,
        }).toEqual({
          kind,
          deployment: d.metadata.name,
          count: 1,
        });
      }
    }
  });

  it('scales the workers with an HPA (which then owns the replica count) and the gateway by replicas', () => {
    const hpas = byKind(objects, 'HorizontalPodAutoscaler') as (K8sObject & {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
    })[];
    const deployments = byKind(objects, 'Deployment') as DeploymentView[];
    // The system test's topology: two backtest workers and two signals workers at least.
    for (const w of ['backtests', 'signals'])
      expect(hpas.find((x) => x.spec.scaleTargetRef.name === `strata-${w}`)?.spec.minReplicas).toBe(2);
    const gateway = deployments.find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'gateway');
    expect(gateway?.spec.replicas).toBeGreaterThanOrEqual(2);
    const workers = deployments.filter((d) => d !== gateway);
    expect(workers.length).toBeGreaterThan(0);
    for (const w of workers) {
      const hpa = hpas.find(
        (x) => x.spec.scaleTargetRef.kind === 'Deployment' && x.spec.scaleTargetRef.name === w.metadata.name,
      );
      expect({ worker: w.metadata.name, hasHpa: !!hpa }).toEqual({ worker: w.metadata.name, hasHpa: true });
      expect(hpa!.spec.minReplicas).toBeLessThanOrEqual(hpa!.spec.maxReplicas);
      expect(w.spec.replicas).toBeUndefined();
    }
    expect(hpas.map((x) => x.spec.scaleTargetRef.name)).not.toContain(gateway?.metadata.name);
  });

  it('puts NATS_URL and shared env in the ConfigMap, MONGODB_URI and STRATA_API_KEYS in the Secret', () => {
    const rendered = helmTemplate(h, [
      'apiKeys=admin:k1',
      'nats.url=nats://n:4222',
      'mongodb.uri=mongodb://m:27017/x',
      'env.LOG_LEVEL=debug',
    ]);
    const cm = byKind(rendered, 'ConfigMap')[0] as K8sObject & { data: Record<string, string> };
    const secret = byKind(rendered, 'Secret')[0] as K8sObject & { stringData: Record<string, string> };
    expect(cm.data).toMatchObject({ NATS_URL: 'nats://n:4222', LOG_LEVEL: 'debug' });
    expect(secret.stringData).toEqual({ MONGODB_URI: 'mongodb://m:27017/x', STRATA_API_KEYS: 'admin:k1' });
    expect(Object.keys(cm.data)).not.toContain('MONGODB_URI');
    expect(Object.keys(cm.data)).not.toContain('STRATA_API_KEYS');
    // An empty value is left out, so the app sees the variable unset (and not as an invalid empty URL).
    expect(Object.keys(cm.data)).not.toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
  });

  it('uses an existing Secret instead of creating one when existingSecret is set', () => {
    const rendered = helmTemplate(h, ['existingSecret=my-strata-secrets']);
    expect(byKind(rendered, 'Secret')).toHaveLength(0);
    for (const d of workloads(rendered)) {
      expect(d.spec.template.spec.containers[0].envFrom?.map((e) => e.secretRef?.name).filter(Boolean)).toEqual([
        'my-strata-secrets',
      ]);
    }
    expect(validateManifests(rendered)).toEqual([]);
  });

  it('renders an HPA for the gateway when asked, and drops a disabled service entirely', () => {
    const rendered = helmTemplate(h, ['services.gateway.hpa.enabled=true', 'services.sentinel.enabled=false']);
    const deployments = workloads(rendered);
    const others = Object.keys(readValues().services).filter((s) => s !== 'sentinel');
    expect(deployments.map(component).sort()).toEqual(others.sort());
    const gateway = deployments.find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'gateway')!;
    expect(gateway.spec.replicas).toBeUndefined();
    // The gateway's HPA, asked for here, next to those the values enable by default (the workers').
    const values = readValues() as unknown as {
      serviceDefaults: { hpa: { enabled: boolean } };
      services: Record<string, { hpa?: { enabled?: boolean } } | null>;
    };
    const hpaOn = (s: string) =>
      s !== 'marketdata' && (values.services[s]?.hpa?.enabled ?? values.serviceDefaults.hpa.enabled);
    const withHpa = others.filter((s) => s === 'gateway' || hpaOn(s)).map((s) => `strata-${s}`);
    expect(
      byKind(rendered, 'HorizontalPodAutoscaler')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(withHpa.sort());
    expect(rendered.filter((o) => o.metadata.name.endsWith('-sentinel'))).toEqual([]);
    expect(validateManifests(rendered)).toEqual([]);
  });

  it('builds image names from the registry, repository, service name and tag', () => {
    const rendered = helmTemplate(h, [
      'image.registry=registry.example.com',
      'image.repository=quant/strata',
      'image.tag=1.2.3',
    ]);
    const images = workloads(rendered)
      .map((d) => d.spec.template.spec.containers[0].image)
      .sort();
    expect(images).toEqual(
      Object.keys(readValues().services)
        .sort()
        .map((s) => `registry.example.com/quant/strata/${s}:1.2.3`),
    );
  });

  it('refuses values that would render a broken release', () => {
    expect(
      helmRun(h, ['template', 'strata', CHART_DIR, '--kube-version', KUBE_VERSION, '--set', 'env.log_level=debug'])
        .output,
    ).toContain('UPPER_SNAKE_CASE');
    expect(
      helmRun(h, [
        'template',
        'strata',
        CHART_DIR,
        '--kube-version',
        KUBE_VERSION,
        '--set',
        'services.backtests.hpa.minReplicas=5',
        '--set',
        'services.backtests.hpa.maxReplicas=2',
      ]).status,
    ).not.toBe(0);
  });
});

// The validator itself, on manifests that must fail: otherwise a green schema check above would prove nothing.
describe('Kubernetes manifest validation (offline)', () => {
  const deployment = (): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: {
        metadata: { labels: { a: 'b' } },
        spec: {
          containers: [{ name: 'c', image: 'i', livenessProbe: { httpGet: { path: '/health', port: 'http' } } }],
        },
      },
    },
  });

  it('accepts a valid Deployment', () => {
    expect(validateManifests([deployment()])).toEqual([]);
  });

  it('reports wrong types and missing required fields', () => {
    const bad = deployment() as K8sObject & { spec: Record<string, unknown> };
    bad.spec.replicas = 'two';
    delete bad.spec.selector;
    const problems = validateSchemas([bad])
      .map((p) => p.message)
      .join('\n');
    expect(problems).toMatch(/replicas must be integer/);
    expect(problems).toMatch(/selector/);
  });

  it('reports a misspelt field that the schema alone lets through', () => {
    const bad = deployment() as K8sObject & { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    bad.spec.template.spec.containers[0].readinessprobe = { httpGet: { path: '/health', port: 'http' } };
    expect(validateSchemas([bad])).toEqual([]);
    const unknown = findUnknownFields([bad]);
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ object: 'Deployment/x' });
    expect(unknown[0].message).toMatch(/readinessprobe/);
  });

  it('reports an unknown kind', () => {
    expect(validateManifests([{ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'y' } }])).toEqual([
      { object: 'Deploymnet/y', message: 'unknown apiVersion/kind apps/v1 Deploymnet' },
    ]);
  });
});
