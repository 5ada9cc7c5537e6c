import { Body, Injectable, Param, Query, type PipeTransform } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { ProblemException, type ProblemItem } from './problem';

/** Where a validated value comes from; used in problem messages (`body.symbol`, `query.limit`). */
export type ZodSource = 'body' | 'query' | 'params' | 'form';

/**
 * The issues a union failed with, as specific as the value allows: when exactly one branch did not fail for keys
 * it does not know (a strict object branch given the other branch's keys), that branch's issues, at their full
 * path (`body.definition.sizing.kind` rather than `body: give exactly one of …`); else the union's own issue.
 */
function specificIssues(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return [issue];
  const viable = issue.errors.filter((branch) => !branch.some((i) => i.code === 'unrecognized_keys' && !i.path.length));
  if (viable.length !== 1) return [issue];
  return viable[0].flatMap((i) => specificIssues({ ...i, path: [...issue.path, ...i.path] }));
}

/** zod issues → problem items: dotted field path (prefixed with the source), issue code as the reason. */
export function zodIssuesToProblemItems(issues: readonly z.core.$ZodIssue[], source: ZodSource): ProblemItem[] {
  return issues.flatMap(specificIssues).map((i) => ({
    field: [source, ...i.path.map(String)].join('.'),
    reason: i.code,
    message: i.message,
  }));
}

/**
 * Parses a value with a zod schema; on failure throws a 400 `application/problem+json` naming every bad field
 * (`errors: [{ field, reason, message }]`). Returns the parsed (coerced, transformed) value.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, source: ZodSource): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const items = zodIssuesToProblemItems(r.error.issues, source);
  throw ProblemException.validation(
    `invalid ${source}: ${items.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    items,
  );
}

/** Nest pipe validating a parameter with a zod schema ({@link parseOrThrow}). */
@Injectable()
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly source: ZodSource = 'body',
  ) {}

  transform(value: unknown): z.output<S> {
    return parseOrThrow(this.schema, value, this.source);
  }
}

/** zod's calendar-date regex (leap years spelled out), without its anchors. */
const ZOD_DATE = z.core.regexes.date.source.slice(1, -1);

/**
 * The schema with zod's calendar-date alternation inside `date` / `date-time` patterns written as `\d{4}-\d{2}-\d{2}`:
 * the `format` beside it states the calendar rule (RFC 3339 full-date), so pattern and format together admit exactly
 * what zod admits, and clients' regex engines (and fuzzers) get a pattern they can read.
 */
function readableDatePatterns(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(readableDatePatterns);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = readableDatePatterns(v);
  const { format, pattern } = out;
  if ((format === 'date' || format === 'date-time') && typeof pattern === 'string')
    out.pattern = pattern.replace(ZOD_DATE, '\\d{4}-\\d{2}-\\d{2}');
  return out;
}

/**
 * JSON Schema of a zod schema's input, for the OpenAPI 3.1 document (JSON Schema 2020-12: record keys keep their
 * pattern as `propertyNames`, which OpenAPI 3.0 cannot state).
 */
export function zodToOpenApi(schema: z.ZodType): Record<string, unknown> {
  const js = readableDatePatterns(
    z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }),
  ) as Record<string, unknown>;
  delete js.$schema;
  return js;
}

/** Applies a method decorator from inside a parameter decorator (both see the same method function). */
function applyToMethod(target: object, key: string | symbol | undefined, decorator: MethodDecorator): void {
  if (key === undefined) return;
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor) decorator(target, key, descriptor);
}

/** Description of the 400 a zod-validated part of the request answers with (the body is a `Problem`). */
const INVALID = {
  body: 'The body is not valid JSON or does not match its schema: application/problem+json, one item per field (errors[].field body.*).',
  query:
    'A query parameter does not match its schema: application/problem+json, one item per field (errors[].field query.*).',
  params: 'A path parameter does not match its schema: application/problem+json (errors[].field params.*).',
} as const;

/**
 * Parameter decorator: the request body, validated by `schema` (400 problem+json on failure), and documented in the
 * OpenAPI document as the JSON request body with the answers the body parser and the validation give (400, 413
 * over the body limit, 415 for a media type other than JSON). Usage:
 * `create(@ZodBody(CreateSchema) body: z.output<typeof CreateSchema>)`.
 */
export function ZodBody(schema: z.ZodType, options: { description?: string } = {}): ParameterDecorator {
  return (target, key, index) => {
    Body(new ZodValidationPipe(schema, 'body'))(target, key, index);
    applyToMethod(target, key, ApiBody({ schema: zodToOpenApi(schema) as never, description: options.description }));
    applyToMethod(target, key, ApiResponse({ status: 400, description: INVALID.body }));
    applyToMethod(target, key, ApiResponse({ status: 413, description: 'The body is larger than the body limit.' }));
    applyToMethod(target, key, ApiResponse({ status: 415, description: 'The body is not application/json.' }));
  };
}

/**
 * Parameter decorator: the path parameter `name`, validated by `schema` (400 problem+json on failure) and documented
 * with that schema. Usage: `get(@ZodParam('id', ModelIdSchema) id: string)`.
 */
export function ZodParam(name: string, schema: z.ZodType, options: { description?: string } = {}): ParameterDecorator {
  return (target, key, index) => {
    Param(name, new ZodValidationPipe(schema, 'params'))(target, key, index);
    const { description, ...js } = zodToOpenApi(schema);
    const text = options.description ?? (typeof description === 'string' ? description : undefined);
    applyToMethod(target, key, ApiParam({ name, schema: js as never, ...(text ? { description: text } : {}) }));
    applyToMethod(target, key, ApiResponse({ status: 400, description: INVALID.params }));
  };
}

/** Query parameters the schema types as numbers. */
function numericNames(props: Record<string, Record<string, unknown>>): string[] {
  return Object.keys(props).filter((n) => props[n].type === 'integer' || props[n].type === 'number');
}

/**
 * {@link ZodValidationPipe} of a query: a number parameter given as an empty (or blank) value is refused, where
 * `z.coerce.number()` would read it as 0, so the query means what its OpenAPI schema says.
 */
class ZodQueryPipe<S extends z.ZodObject> extends ZodValidationPipe<S> {
  constructor(
    schema: S,
    private readonly numeric: readonly string[],
  ) {
    super(schema, 'query');
  }

  override transform(value: unknown): z.output<S> {
    const q = (value ?? {}) as Record<string, unknown>;
    const blank = this.numeric.filter((n) => typeof q[n] === 'string' && (q[n] as string).trim() === '');
    if (blank.length)
      throw ProblemException.validation(
        `invalid query: ${blank.map((n) => `query.${n}: expected a number, got an empty value`).join('; ')}`,
        blank.map((n) => ({ field: `query.${n}`, reason: 'invalid_type', message: 'expected a number' })),
      );
    return super.transform(value);
  }
}

/**
 * Parameter decorator: the query string, validated by an object `schema` (use `z.coerce` for numbers), each property
 * documented as an OpenAPI query parameter, with the 400 of a bad value and, for a paginated query (a `cursor`
 * property), the 404 of a cursor that names no page of it.
 */
export function ZodQuery(schema: z.ZodObject): ParameterDecorator {
  return (target, key, index) => {
    const js = zodToOpenApi(schema);
    const props = (js.properties ?? {}) as Record<string, Record<string, unknown>>;
    Query(new ZodQueryPipe(schema, numericNames(props)))(target, key, index);
    applyToMethod(target, key, ApiResponse({ status: 400, description: INVALID.query }));
    if ('cursor' in schema.shape)
      applyToMethod(
        target,
        key,
        ApiResponse({
          status: 404,
          description:
            'The cursor names no page of this query (urn:strata:problem:invalid-cursor), or what the path names does not exist.',
        }),
      );
    const required = new Set((js.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries(props)) {
      const { description, ...propSchema } = prop;
      applyToMethod(
        target,
        key,
        ApiQuery({
          name,
          required: required.has(name),
          schema: propSchema as never,
          ...(typeof description === 'string' ? { description } : {}),
        }),
      );
    }
  };
}

/** Lower-case aliases of {@link ZodBody} / {@link ZodQuery}. */
export const zodBody = ZodBody;
export const zodQuery = ZodQuery;
