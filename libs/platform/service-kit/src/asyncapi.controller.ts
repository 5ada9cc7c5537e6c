import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { buildAsyncApiDocument } from '@strata/catalog-contracts';
import { Public } from '@strata/platform-http';

/** `GET /asyncapi.json`: the AsyncAPI 3 document of every bus message, generated from the contracts (public). */
@ApiTags('docs')
@Public()
@Controller()
export class AsyncApiController {
  private doc: Record<string, unknown> | undefined;

  @Get('asyncapi.json')
  @Header('cache-control', 'no-cache')
  @ApiOperation({ summary: 'AsyncAPI 3 document of the events and commands on the bus' })
  @ApiOkResponse({ description: 'AsyncAPI 3.0 document (JSON).' })
  asyncapi(): Record<string, unknown> {
    return (this.doc ??= buildAsyncApiDocument());
  }
}
