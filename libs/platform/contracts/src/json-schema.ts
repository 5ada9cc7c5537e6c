/**
 * Recursive zod schemas (e.g. `StrategyCondition`) become JSON Schemas with local definitions (`$defs` or, for the
 * OpenAPI 3.0 target, `definitions`) referenced as `#/$defs/<id>`. Embedded inside a larger document (OpenAPI,
 * AsyncAPI) such a reference would point at the document root and dangle. {@link hoistJsonSchemaDefinitions} moves
 * the local definitions into the document's shared schema components and rewrites the references.
 */

type Json = unknown;

/**
 * Moves `$defs` / `definitions` found anywhere in `schema` into `components` and rewrites every `#/$defs/<name>` and
 * `#/definitions/<name>` reference to `<refPrefix><name>` (e.g. `#/components/schemas/`). Mutates and returns `schema`.
 * Anonymous definitions (`__schema0`, zod's names for unnamed recursive parts) are renamed `<anonPrefix>__schema0` to
 * keep them apart across schemas. Throws when a name is already in `components` with a different body, so two
 * contracts cannot silently share one component name.
 */
export function hoistJsonSchemaDefinitions(
  schema: Record<string, unknown>,
  components: Record<string, unknown>,
  refPrefix: string,
  anonPrefix = 'anon',
): Record<string, unknown> {
  const rename = (name: string): string => (name.startsWith('__schema') ? `${anonPrefix}${name}` : name);
  const collected: Record<string, unknown> = {};
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      if ((k === '$defs' || k === 'definitions') && v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [name, def] of Object.entries(v as Record<string, unknown>)) collected[rename(name)] = walk(def);
        continue;
      }
      if (k === '$ref' && typeof v === 'string') {
        const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(v);
        out[k] = m ? `${refPrefix}${rename(m[1])}` : v;
        continue;
      }
      out[k] = walk(v);
    }
    return out;
  };
  const rewritten = walk(schema) as Record<string, unknown>;
  for (const [name, def] of Object.entries(collected)) {
    if (name in components && JSON.stringify(components[name]) !== JSON.stringify(def)) {
      throw new Error(`JSON Schema component ${name} is defined twice with different bodies`);
    }
    components[name] = def;
  }
  for (const k of Object.keys(schema)) delete schema[k];
  Object.assign(schema, rewritten);
  return schema;
}
