import { Body, Injectable, Query, type PipeTransform } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';
import { ProblemException, type ProblemItem } from './problem';

/** Where a validated value comes from; used in problem messages (`body.symbol`, `query.limit`). */
export type ZodSource = 'body' | 'query' | 'params' | 'form';

/** zod issues → problem items: dotted field path (prefixed with the source), issue code as the reason. */
export function zodIssuesToProblemItems(issues: readonly z.core.$ZodIssue[], source: ZodSource): ProblemItem[] {
  return issues.map((i) => ({
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

/** JSON Schema (OpenAPI 3.0 dialect) of a zod schema's input, for the OpenAPI document. */
export function zodToOpenApi(schema: z.ZodType): Record<string, unknown> {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<
    string,
    unknown
  >;
  delete js.$schema;
  return js;
}

/** Applies a method decorator from inside a parameter decorator (both see the same method function). */
function applyToMethod(target: object, key: string | symbol | undefined, decorator: MethodDecorator): void {
  if (key === undefined) return;
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor) decorator(target, key, descriptor);
}

/**
 * Parameter decorator: the request body, validated by `schema` (400 problem+json on failure), and documented in the
 * OpenAPI document as the JSON request body. Usage: `create(@ZodBody(CreateSchema) body: z.output<typeof CreateSchema>)`.
 */
export function ZodBody(schema: z.ZodType, options: { description?: string } = {}): ParameterDecorator {
  return (target, key, index) => {
    Body(new ZodValidationPipe(schema, 'body'))(target, key, index);
    applyToMethod(target, key, ApiBody({ schema: zodToOpenApi(schema) as never, description: options.description }));
  };
}

/**
 * Parameter decorator: the query string, validated by an object `schema` (use `z.coerce` for numbers), each property
 * documented as an OpenAPI query parameter.
 */
export function ZodQuery(schema: z.ZodObject): ParameterDecorator {
  return (target, key, index) => {
    Query(new ZodValidationPipe(schema, 'query'))(target, key, index);
    const js = zodToOpenApi(schema);
    const props = (js.properties ?? {}) as Record<string, Record<string, unknown>>;
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
