export * from './http-webhook.transport';
