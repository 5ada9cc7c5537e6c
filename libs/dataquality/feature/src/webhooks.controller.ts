import { Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import {
  CreateWebhookBodySchema,
  UpdateWebhookBodySchema,
  WebhookDeliveriesQuerySchema,
  WebhookDeliveryDtoSchema,
  WebhooksQuerySchema,
  WebhookSubscriptionDtoSchema,
  type CreateWebhookBody,
  type UpdateWebhookBody,
  type WebhookDeliveriesQuery,
  type WebhookDeliveryDto,
  type WebhookSubscriptionDto,
} from '@strata/dataquality-contracts';
import { DocumentStoreError } from '@strata/platform-contracts';
import {
  ProblemException,
  problemType,
  Roles,
  ZodBody,
  ZodQuery,
  zodToOpenApi,
  type AuthenticatedRequest,
} from '@strata/platform-http';
import { z } from 'zod';
import {
  WEBHOOK_DISPATCHER_OPTIONS,
  resolveDispatcherOptions,
  type WebhookDispatcherOptions,
} from './webhook-dispatcher';
import { WebhookDeliveryStateError, WebhookNotFoundError, WebhooksService } from './webhooks.service';

const pageOf = (item: z.ZodType) =>
  zodToOpenApi(z.object({ items: z.array(item), nextCursor: z.string().nullable() })) as never;

function problem(e: unknown): never {
  if (e instanceof WebhookNotFoundError) throw ProblemException.notFound(e.message);
  if (e instanceof WebhookDeliveryStateError)
    throw new ProblemException({
      type: problemType('delivery-not-redeliverable'),
      status: 409,
      detail: e.message,
      deliveryStatus: e.status,
    });
  if (e instanceof DocumentStoreError && e.httpStatus < 500)
    throw new ProblemException({
      type: problemType(e.code.replace(/_/g, '-')),
      status: e.httpStatus,
      detail: e.message,
    });
  throw e;
}

/**
 * `/webhooks` (admin): subscriptions to DataQualityEvents (URL, minimum severity, symbol filter, write-only secret),
 * the delivery log of each, and redelivery of dead deliveries. Deliveries are signed (`Strata-Signature`, see
 * docs/sentinel.md) and retried with exponential backoff and full jitter.
 */
@ApiTags('webhooks')
@Controller('webhooks')
@Roles('admin')
export class WebhooksController {
  private readonly maxAttempts: number;

  constructor(
    private readonly webhooks: WebhooksService,
    @Inject(WEBHOOK_DISPATCHER_OPTIONS) options: WebhookDispatcherOptions,
  ) {
    this.maxAttempts = resolveDispatcherOptions(options).maxAttempts;
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Subscribe a URL to DataQualityEvents (minSeverity default HIGH; the secret is never returned)',
  })
  @ApiCreatedResponse({ schema: zodToOpenApi(WebhookSubscriptionDtoSchema) as never })
  create(
    @ZodBody(CreateWebhookBodySchema) body: CreateWebhookBody,
    @Req() req: AuthenticatedRequest,
  ): Promise<WebhookSubscriptionDto> {
    return this.webhooks.create(body, req.principal?.keyId ?? null).catch(problem);
  }

  @Get()
  @ApiOperation({ summary: 'Webhook subscriptions, newest first' })
  @ApiOkResponse({ schema: pageOf(WebhookSubscriptionDtoSchema) })
  list(@ZodQuery(WebhooksQuerySchema) q: z.output<typeof WebhooksQuerySchema>) {
    return this.webhooks.list(q).catch(problem);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook subscription' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(WebhookSubscriptionDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such subscription (application/problem+json).' })
  get(@Param('id') id: string): Promise<WebhookSubscriptionDto> {
    return this.webhooks.get(id).catch(problem);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a subscription (a new secret rotates it at once)' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(WebhookSubscriptionDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such subscription (application/problem+json).' })
  update(
    @Param('id') id: string,
    @ZodBody(UpdateWebhookBodySchema) body: UpdateWebhookBody,
  ): Promise<WebhookSubscriptionDto> {
    return this.webhooks.update(id, body).catch(problem);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a subscription (its queued deliveries go dead)' })
  @ApiParam({ name: 'id' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse({ description: 'No such subscription (application/problem+json).' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.webhooks.remove(id).catch(problem);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    summary: 'Delivery log of a subscription, newest first: status, attempts, last status code / error, timestamps',
  })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: pageOf(WebhookDeliveryDtoSchema) })
  @ApiNotFoundResponse({ description: 'No such subscription (application/problem+json).' })
  deliveries(@Param('id') id: string, @ZodQuery(WebhookDeliveriesQuerySchema) q: WebhookDeliveriesQuery) {
    return this.webhooks.deliveries(id, q).catch(problem);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Re-queue a dead (or succeeded) delivery: same body, same idempotency key, a fresh set of attempts',
  })
  @ApiParam({ name: 'id' })
  @ApiParam({ name: 'deliveryId' })
  @ApiAcceptedResponse({ schema: zodToOpenApi(WebhookDeliveryDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such subscription or delivery (application/problem+json).' })
  @ApiConflictResponse({ description: 'The delivery is still pending or in flight (application/problem+json).' })
  redeliver(@Param('id') id: string, @Param('deliveryId') deliveryId: string): Promise<WebhookDeliveryDto> {
    return this.webhooks.redeliver(id, deliveryId, this.maxAttempts).catch(problem);
  }
}
