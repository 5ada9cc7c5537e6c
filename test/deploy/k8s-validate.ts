/**
 * Offline validation of Kubernetes manifests against the Kubernetes API schemas, in two passes:
 *
 * 1. Schema: kubernetes-models (v4, Node 14+) ships every built-in kind's OpenAPI schema compiled to an ajv
 *    validator: required fields, types, enums, int-or-string, formats.
 * 2. Unknown fields: the OpenAPI schemas allow extra properties (as the API server does without strict field
 *    validation), so a misspelt `livenessprobe` would pass. The same package ships a TypeScript interface per
 *    kind; each manifest becomes an object literal typed with it, and TypeScript's excess-property check reports
 *    every field the API does not define (like `kubectl --validate=strict` or kubeconform -strict).
 */
import * as path from 'node:path';
import ts from 'typescript';
import type { K8sObject } from './deploy-tools';

/** One problem found in one manifest. */
export interface ManifestProblem {
  /** `Kind/name` of the manifest. */
  object: string;
  message: string;
}

interface ModelModule {
  [kind: string]: new (data: unknown) => { validate(): void };
}

function label(o: K8sObject): string {
  return `${o.kind}/${o.metadata?.name ?? '?'}`;
}

/** Module path of a built-in kind in kubernetes-models: `v1/Service`, `apps/v1/Deployment`, ... */
function modelPath(o: K8sObject): string {
  return `kubernetes-models/${o.apiVersion}/${o.kind}`;
}

/** Pass 1: each object against its kind's schema. Unknown apiVersion/kind is a problem too. */
export function validateSchemas(objects: K8sObject[]): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const o of objects) {
    if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') {
      problems.push({ object: label(o), message: 'apiVersion and kind are required' });
      continue;
    }
    let mod: ModelModule;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(modelPath(o)) as ModelModule;
    } catch {
      problems.push({ object: label(o), message: `unknown apiVersion/kind ${o.apiVersion} ${o.kind}` });
      continue;
    }
    try {
      new mod[o.kind](o).validate();
    } catch (err) {
      problems.push({ object: label(o), message: (err as Error).message });
    }
  }
  return problems;
}

/** Pass 2: fields that the kind's API type does not define, found by TypeScript's excess-property check. */
export function findUnknownFields(objects: K8sObject[]): ManifestProblem[] {
  const dir = path.resolve(__dirname);
  const file = path.join(dir, '__rendered_manifests__.ts');
  const lines: string[] = [];
  const owners: { start: number; end: number; object: string }[] = [];
  objects.forEach((o, i) => {
    lines.push(`import type { I${o.kind} as T${i} } from ${JSON.stringify(modelPath(o))};`);
  });
  objects.forEach((o, i) => {
    const body = JSON.stringify(o, null, 1).split('\n');
    const start = lines.length;
    lines.push(`export const m${i}: T${i} = ${body[0]}`, ...body.slice(1));
    owners.push({ start, end: lines.length - 1, object: label(o) });
  });
  const source = lines.join('\n');

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    path.resolve(name) === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === file ? source : readFile(name));

  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file);
  return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const owner = owners.find((w) => line >= w.start && line <= w.end);
    const text = d.file && d.start !== undefined ? source.slice(d.start, d.start + (d.length ?? 0)) : '';
    return {
      object: owner?.object ?? '(imports)',
      message: `${ts.flattenDiagnosticMessageText(d.messageText, ' ')}${text ? ` [at ${text}]` : ''}`,
    };
  });
}

/** Both passes; an empty list means every manifest is valid. */
export function validateManifests(objects: K8sObject[]): ManifestProblem[] {
  const schema = validateSchemas(objects);
  // Pass 2 needs a known kind for each object; pass 1 has already reported the unknown ones.
  const known = objects.filter(
    (o) => !schema.some((p) => p.object === label(o) && p.message.startsWith('unknown apiVersion/kind')),
  );
  return [...schema, ...findUnknownFields(known)];
}
