import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { API_KEY_RESOLVER, roleSatisfies, type ApiKeyResolver, type ApiPrincipal, type ApiRole } from './api-keys';
import { IS_PUBLIC_KEY, ROLES_KEY } from './auth.decorators';
import { forwardedPrincipal } from './forwarded-principal';
import { ProblemException, problemType } from './problem';

/** A request after authentication: `principal` is set by {@link ApiKeyGuard}. */
export type AuthenticatedRequest = FastifyRequest & { principal?: ApiPrincipal };

/** The presented key: `Authorization: Bearer <key>` first, then `X-API-Key: <key>`; undefined when neither. */
export function extractApiKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x.trim()) return x.trim();
  return undefined;
}

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="strata", ApiKey header="X-API-Key"' };

/**
 * Global guard for HTTP routes: `@Public()` routes pass; otherwise a known key is required (401 problem+json
 * without or with an unknown key) whose role satisfies `@Roles(...)` (403 problem+json when below; default
 * viewer). Sets `request.principal`. A request the gateway forwarded over the bus carries the principal it authenticated
 * (trusted only with this process's internal token, see `forwardedPrincipal`); its role is checked the same way.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(API_KEY_RESOLVER) private readonly keys: ApiKeyResolver,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    // Forwarded by the gateway over the bus (and injected by this process's own bus handler): already authenticated.
    const forwarded = forwardedPrincipal(req.headers);
    if (forwarded) return this.authorize(req, forwarded, targets);
    const key = extractApiKey(req.headers);
    if (!key) {
      throw new ProblemException(
        {
          type: problemType('unauthorized'),
          status: 401,
          detail: 'An API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>".',
        },
        CHALLENGE,
      );
    }
    const principal = await this.keys.resolve(key);
    if (!principal)
      throw new ProblemException(
        { type: problemType('unauthorized'), status: 401, detail: 'The API key is not valid.' },
        CHALLENGE,
      );
    return this.authorize(req, principal, targets);
  }

  private authorize(
    req: AuthenticatedRequest,
    principal: ApiPrincipal,
    targets: Parameters<Reflector['getAllAndOverride']>[1],
  ): boolean {
    req.principal = principal;
    const required = this.reflector.getAllAndOverride<ApiRole | undefined>(ROLES_KEY, targets) ?? 'viewer';
    if (!roleSatisfies(principal.role, required)) {
      throw new ProblemException({
        type: problemType('forbidden'),
        status: 403,
        detail: `This operation needs the ${required} role; the key ${principal.keyId} has ${principal.role}.`,
        requiredRole: required,
      });
    }
    return true;
  }
}
