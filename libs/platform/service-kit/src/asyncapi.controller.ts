import { Controller, Get, Header, Inject, Module, type DynamicModule } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@strata/platform-http';

const ASYNCAPI_DOCUMENT = Symbol('ASYNCAPI_DOCUMENT');

/** `GET /asyncapi.json`: the AsyncAPI 3 document of every bus message, generated from the contracts (public). */
@ApiTags('docs')
@Public()
@Controller()
export class AsyncApiController {
  private doc: Record<string, unknown> | undefined;

  constructor(@Inject(ASYNCAPI_DOCUMENT) private readonly build: () => Record<string, unknown>) {}

  @Get('asyncapi.json')
  @Header('cache-control', 'no-cache')
  @ApiOperation({ summary: 'AsyncAPI 3 document of the events and commands on the bus' })
  @ApiOkResponse({
    description: 'AsyncAPI 3.0 document (JSON).',
    schema: { type: 'object', required: ['asyncapi', 'info', 'channels'], additionalProperties: true },
  })
  asyncapi(): Record<string, unknown> {
    return (this.doc ??= this.build());
  }
}

/** Serves `/asyncapi.json` from the document the app builds (from its message catalog), built on first request. */
@Module({})
export class AsyncApiModule {
  static register(build: () => Record<string, unknown>): DynamicModule {
    return {
      module: AsyncApiModule,
      controllers: [AsyncApiController],
      providers: [{ provide: ASYNCAPI_DOCUMENT, useValue: build }],
    };
  }
}
