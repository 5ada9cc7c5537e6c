import { z } from 'zod';
import {
  DeadLetterHeaders,
  DeadLetterSchema,
  EnvelopeSchema,
  type MessageDefinition,
  hoistJsonSchemaDefinitions,
} from '@strata/platform-contracts';
import { ALL_MESSAGES } from './registry';

/**
 * The compatibility rule, stated in the document itself (`info.description` and `x-strata-compatibility`), so a
 * client generated from it knows what may change within a version.
 */
export const ASYNCAPI_COMPATIBILITY_RULE =
  'Within a subject version (.v<N>) producers only add optional properties: payload objects are open ' +
  '(no additionalProperties: false) unless a contract closes one on purpose, and clients must ignore properties ' +
  'they do not know. Removing or renaming a property, making one required, or narrowing a type is a breaking ' +
  'change published on a new subject version (.v<N+1>), with both versions published during the migration.';

/** JSON Schema of a zod schema as the bus accepts it (input side: defaults optional, unknown keys allowed). */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const TRACE_HEADERS = {
  traceparent: {
    type: 'string',
    pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
    description:
      'W3C trace context, on every message: continued from the HTTP request or message that caused it, else started by the producer; with or without tracing export.',
  },
  tracestate: { type: 'string', description: 'W3C trace state, when the trace carries one.' },
} as const;

/** Headers of a message: the trace context always, `Nats-Msg-Id` on messages stored in a stream. */
function messageHeaders(stored: boolean): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      ...(stored
        ? { 'Nats-Msg-Id': { type: 'string', description: 'Envelope id; the server deduplicates republished ids.' } }
        : {}),
      ...TRACE_HEADERS,
    },
    required: stored ? ['Nats-Msg-Id', 'traceparent'] : ['traceparent'],
  };
}

/** Headers of a binary read request (`transport: 'binary'`). */
const BINARY_REQUEST_HEADERS = {
  type: 'object',
  properties: {
    'Strata-Request-Meta': {
      type: 'string',
      contentMediaType: 'application/json',
      description: 'Optional JSON metadata, e.g. the content hash the requester already holds.',
    },
    ...TRACE_HEADERS,
  },
  required: ['traceparent'],
};

/** Headers of a binary reply: the metadata as JSON text (`reply` schema), or an error code and message. */
function binaryReplyHeaders(meta: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      'Strata-Reply-Meta': {
        type: 'string',
        contentMediaType: 'application/json',
        contentSchema: meta,
        description: 'Reply metadata (JSON).',
      },
      'Strata-Error-Code': { type: 'string', description: 'Set on a failed request: invalid_payload, not_found, ...' },
      'Strata-Error': { type: 'string', description: 'The failure, for humans.' },
    },
  };
}

const DEAD_LETTER_MESSAGE = {
  name: 'DeadLetter',
  title: 'Dead letter',
  summary:
    'A message a consumer gave up on: its schema failed (at once), or every allowed delivery failed or timed out. The body keeps the original message; the headers repeat the reason.',
  contentType: 'application/json',
  headers: {
    type: 'object',
    properties: {
      [DeadLetterHeaders.Reason]: {
        type: 'string',
        enum: DeadLetterSchema.shape.reason.options,
        description: 'Why it was dead-lettered (the body reason).',
      },
      [DeadLetterHeaders.Consumer]: { type: 'string', description: 'Durable consumer that gave up.' },
      [DeadLetterHeaders.Deliveries]: {
        type: 'string',
        pattern: '^[0-9]+$',
        description: 'Deliveries made before dead-lettering (decimal).',
      },
      [DeadLetterHeaders.Detail]: {
        type: 'string',
        maxLength: 512,
        description: 'The cause on one line (at most 512 characters; the body has it in full).',
      },
      [DeadLetterHeaders.StreamSeq]: {
        type: 'string',
        description: '<stream>:<sequence> of the original message in its domain stream.',
      },
      'Nats-Msg-Id': {
        type: 'string',
        description: '<stream>:<sequence>:<consumer>: the same dead letter stored twice is deduplicated.',
      },
      ...TRACE_HEADERS,
    },
    required: [
      DeadLetterHeaders.Reason,
      DeadLetterHeaders.Consumer,
      DeadLetterHeaders.Deliveries,
      DeadLetterHeaders.Detail,
      DeadLetterHeaders.StreamSeq,
      'Nats-Msg-Id',
    ],
  },
  payload: jsonSchema(DeadLetterSchema),
};

/** Builds the AsyncAPI 3.0 document from the message definitions; never written by hand. */
export function buildAsyncApiDocument(messages: readonly MessageDefinition[] = ALL_MESSAGES): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const componentsMessages: Record<string, unknown> = { DeadLetter: DEAD_LETTER_MESSAGE };
  // Named (recursive) parts of payload schemas, e.g. StrategyCondition, shared by every message that embeds them.
  const componentsSchemas: Record<string, unknown> = {};
  const envelope = jsonSchema(EnvelopeSchema);
  for (const m of [...messages].sort((a, b) => a.subject.localeCompare(b.subject))) {
    const key = m.subject.replace(/\./g, '_');
    const payload = jsonSchema(m.schema);
    hoistJsonSchemaDefinitions(payload, componentsSchemas, '#/components/schemas/', key);
    const replied = m.kind === 'command' && 'reply' in m && !!m.reply;
    const binary = m.kind === 'command' && 'transport' in m && m.transport === 'binary';
    componentsMessages[key] = {
      name: m.subject,
      title: m.subject,
      summary: m.description,
      contentType: 'application/json',
      // A binary read sends the bare payload (no envelope) and may name what the requester holds in Strata-Request-Meta.
      headers: binary ? BINARY_REQUEST_HEADERS : messageHeaders(!replied),
      payload: binary
        ? payload
        : {
            ...envelope,
            properties: {
              ...(envelope.properties as object),
              type: { const: m.subject },
              version: { const: m.version },
              data: payload,
            },
          },
    };
    channels[key] = {
      // Commands that answer travel on core NATS `rpc.<subject>` (outside the stream, which would answer with its ack).
      address: replied ? `rpc.${m.subject}` : m.subject,
      description: m.description,
      messages: { [key]: { $ref: `#/components/messages/${key}` } },
    };
    operations[`${m.kind === 'event' ? 'on' : 'handle'}_${key}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${key}` },
      summary: m.kind === 'event' ? `Subscribe to ${m.subject}` : `Serve ${m.subject}`,
      messages: [{ $ref: `#/channels/${key}/messages/${key}` }],
    };
    if (replied) {
      const reply = jsonSchema(m.reply as z.ZodType);
      hoistJsonSchemaDefinitions(reply, componentsSchemas, '#/components/schemas/', `${key}_reply`);
      componentsMessages[`${key}_reply`] = binary
        ? {
            name: `${m.subject} reply`,
            summary: 'The reply body is bytes; its metadata (this schema) is the JSON of the Strata-Reply-Meta header.',
            contentType: 'application/octet-stream',
            headers: binaryReplyHeaders(reply),
            payload: { type: 'string', format: 'binary' },
          }
        : { name: `${m.subject} reply`, contentType: 'application/json', payload: reply };
      (operations[`handle_${key}`] as Record<string, unknown>).reply = {
        messages: [{ $ref: `#/components/messages/${key}_reply` }],
      };
      continue;
    }
    channels[`dlq_${key}`] = {
      address: `dlq.${m.subject}`,
      description: `Dead letters of ${m.subject}: the DeadLetter body, the reason in the ${DeadLetterHeaders.Reason} header.`,
      messages: { DeadLetter: { $ref: '#/components/messages/DeadLetter' } },
    };
    operations[`on_dlq_${key}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/dlq_${key}` },
      summary: `Subscribe to dead letters of ${m.subject}`,
      messages: [{ $ref: `#/channels/dlq_${key}/messages/DeadLetter` }],
    };
  }
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Strata events',
      version: '1.0.0',
      description:
        'Typed events and commands exchanged over NATS JetStream. Subjects: <domain>.evt.<entity>.<past-tense-verb>.v<N> for facts, <domain>.cmd.<verb>.v<N> for requests; one stream per domain; commands that answer on rpc.<subject>; dead letters on dlq.<subject> (DeadLetter body, Strata-Dlq-* headers). Every message carries a W3C traceparent header. ' +
        `Compatibility: ${ASYNCAPI_COMPATIBILITY_RULE}`,
      'x-strata-compatibility': ASYNCAPI_COMPATIBILITY_RULE,
    },
    defaultContentType: 'application/json',
    servers: {
      nats: {
        host: '{host}:{port}',
        protocol: 'nats',
        description: 'NATS with JetStream (the NATS_URL of the deployment).',
        variables: {
          host: { default: 'localhost', description: 'NATS server host name.' },
          port: { default: '4222', description: 'NATS client port.' },
        },
      },
    },
    channels,
    operations,
    components: Object.keys(componentsSchemas).length
      ? { messages: componentsMessages, schemas: componentsSchemas }
      : { messages: componentsMessages },
  };
}
