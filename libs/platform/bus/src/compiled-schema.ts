import { z } from 'zod';

const compiledSchemas = new WeakMap<z.ZodType, z.ZodType>();

/**
 * The payload schema both adapters validate with: `z.compile(schema)` (zod's ahead-of-time compiled parser), built once
 * per schema and cached. Same guarantees as `schema.safeParse`: the compiled parser accepts exactly what the schema
 * accepts and returns a fresh parsed copy (unknown keys stripped); on any input it does not accept, and for schema
 * features it cannot model, zod's runtime parser runs instead, so rejections carry the usual issues. It skips the
 * runtime parser's per-property result objects, which were most of the bus's validation cost and garbage.
 */
export function compiledSchema<S extends z.ZodType>(schema: S): S {
  let c = compiledSchemas.get(schema);
  if (!c) {
    c = z.compile(schema);
    compiledSchemas.set(schema, c);
  }
  return c as S;
}
