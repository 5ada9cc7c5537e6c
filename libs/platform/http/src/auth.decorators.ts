import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { ApiRole } from './api-keys';

/** Metadata key marking a route or controller as public (no API key). */
export const IS_PUBLIC_KEY = 'strata:public';
/** Metadata key of the minimum role of a route or controller. */
export const ROLES_KEY = 'strata:role';

/** Marks a route or controller as public: `ApiKeyGuard` lets it through without a key. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/**
 * Requires at least `role` (viewer < operator < admin) on a route or controller; documents both key schemes and
 * the 401/403 answers in OpenAPI. Routes without `@Roles` and without `@Public` need any valid key (viewer).
 */
export function Roles(role: ApiRole): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROLES_KEY, role),
    ApiBearerAuth('bearer'),
    ApiSecurity('apiKey'),
    ApiUnauthorizedResponse({ description: 'No or unknown API key (application/problem+json).' }),
    ApiForbiddenResponse({ description: `The key's role is below ${role} (application/problem+json).` }),
  );
}
