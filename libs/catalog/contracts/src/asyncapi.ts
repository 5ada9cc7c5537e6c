import { z } from 'zod';
import { EnvelopeSchema, type MessageDefinition, hoistJsonSchemaDefinitions } from '@strata/platform-contracts';
import { ALL_MESSAGES } from './registry';

/** Builds the AsyncAPI 3.0 document from the message definitions; never written by hand. */
export function buildAsyncApiDocument(messages: readonly MessageDefinition[] = ALL_MESSAGES): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const componentsMessages: Record<string, unknown> = {};
  // Named (recursive) parts of payload schemas, e.g. StrategyCondition, shared by every message that embeds them.
  const componentsSchemas: Record<string, unknown> = {};
  const envelope = z.toJSONSchema(EnvelopeSchema, { unrepresentable: 'any' }) as Record<string, unknown>;
  delete envelope.$schema;
  for (const m of [...messages].sort((a, b) => a.subject.localeCompare(b.subject))) {
    const key = m.subject.replace(/\./g, '_');
    const payload = z.toJSONSchema(m.schema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
    delete payload.$schema;
    hoistJsonSchemaDefinitions(payload, componentsSchemas, '#/components/schemas/', key);
    componentsMessages[key] = {
      name: m.subject,
      title: m.subject,
      summary: m.description,
      contentType: 'application/json',
      headers: {
        type: 'object',
        properties: {
          'Nats-Msg-Id': { type: 'string', description: 'Envelope id; the server deduplicates republished ids.' },
          traceparent: { type: 'string', description: 'W3C trace context.' },
        },
      },
      payload: {
        ...envelope,
        properties: {
          ...(envelope.properties as object),
          type: { const: m.subject },
          version: { const: m.version },
          data: payload,
        },
      },
    };
    const channel: Record<string, unknown> = {
      address: m.subject,
      description: m.description,
      messages: { [key]: { $ref: `#/components/messages/${key}` } },
    };
    channels[key] = channel;
    operations[`${m.kind === 'event' ? 'on' : 'handle'}_${key}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${key}` },
      summary: m.kind === 'event' ? `Subscribe to ${m.subject}` : `Serve ${m.subject}`,
      messages: [{ $ref: `#/channels/${key}/messages/${key}` }],
    };
    if (m.kind === 'command' && 'reply' in m && m.reply) {
      const reply = z.toJSONSchema(m.reply as z.ZodType, { unrepresentable: 'any' }) as Record<string, unknown>;
      delete reply.$schema;
      componentsMessages[`${key}_reply`] = {
        name: `${m.subject} reply`,
        contentType: 'application/json',
        payload: reply,
      };
      (operations[`handle_${key}`] as Record<string, unknown>).reply = {
        messages: [{ $ref: `#/components/messages/${key}_reply` }],
      };
    }
    channels[`dlq_${key}`] = {
      address: `dlq.${m.subject}`,
      description: `Dead letters of ${m.subject}, with the reason in the Strata-Dlq-Reason header.`,
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Strata events',
      version: '1.0.0',
      description:
        'Typed events and commands exchanged over NATS JetStream. Subjects: <domain>.evt.<entity>.<past-tense-verb>.v<N> for facts, <domain>.cmd.<verb>.v<N> for requests; one stream per domain; dead letters on dlq.<subject>.',
    },
    defaultContentType: 'application/json',
    servers: { nats: { host: 'localhost:4222', protocol: 'nats', description: 'NATS with JetStream' } },
    channels,
    operations,
    components: Object.keys(componentsSchemas).length
      ? { messages: componentsMessages, schemas: componentsSchemas }
      : { messages: componentsMessages },
  };
}
