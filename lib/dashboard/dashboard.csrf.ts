import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CSRF_COOKIE, CSRF_HEADER, DASHBOARD_OPTIONS } from './dashboard.constants';
import type { ResolvedDashboardOptions } from './dashboard.options';

const NONCE = /^[A-Za-z0-9_-]{43}$/;

/**
 * CSRF protection by a signed double submit: each browser gets a random nonce in an HttpOnly,
 * SameSite=Strict cookie scoped to the console's path, and its pages carry HMAC(secret, nonce) as
 * the token. An action must send that token (header `x-csrf-token` or form field `_csrf`) with the
 * cookie: another site can neither read the page nor compute the HMAC for a nonce, and a cookie it
 * manages to plant carries no valid token with it.
 */
@Injectable()
export class DashboardCsrf {
  private readonly secret: Buffer;

  constructor(@Inject(DASHBOARD_OPTIONS) options: ResolvedDashboardOptions) {
    this.secret = options.csrfSecret === null ? randomBytes(32) : Buffer.from(options.csrfSecret, 'utf8');
  }

  /** The request's nonce if its cookie holds a well-formed one, else a new one (`fresh`: the page must set the cookie). */
  nonceFor(headers: Record<string, unknown>): { nonce: string; fresh: boolean } {
    const existing = readCookie(headers, CSRF_COOKIE);
    if (existing && NONCE.test(existing)) return { nonce: existing, fresh: false };
    return { nonce: randomBytes(32).toString('base64url'), fresh: true };
  }

  tokenFor(nonce: string): string {
    return createHmac('sha256', this.secret).update(nonce).digest('base64url');
  }

  /** Throws a 403 saying what is missing unless the request carries its cookie's token. */
  verify(headers: Record<string, unknown>, body: unknown): void {
    const nonce = readCookie(headers, CSRF_COOKIE);
    const header = headers[CSRF_HEADER];
    const field = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)._csrf : undefined;
    const token = typeof header === 'string' && header !== '' ? header : typeof field === 'string' ? field : undefined;
    if (token === undefined) {
      throw new ForbiddenException(`CSRF token missing: send the token of the page's <meta name="csrf-token"> in the ${CSRF_HEADER} header or the _csrf form field; nothing was changed`);
    }
    if (!nonce || !NONCE.test(nonce)) {
      throw new ForbiddenException(`CSRF cookie missing: load a console page in this browser first (it sets the ${CSRF_COOKIE} cookie), then send the action again; nothing was changed`);
    }
    const expected = Buffer.from(this.tokenFor(nonce));
    const given = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ForbiddenException('CSRF token does not match this browser\'s cookie: reload the page for a fresh token and try again; nothing was changed');
    }
  }
}

/**
 * One cookie's value from the Cookie header, read from the request rather than through Nest's
 * `@Cookies()`, which would run the app's global pipes on it (Nest's own parser is internal to
 * @nestjs/core), and rather than the `cookie` package, whose current major is ES modules only.
 * The console reads a single cookie it set itself: a base64url value, nothing to decode.
 */
export function readCookie(headers: Record<string, unknown>, name: string): string | undefined {
  const header = headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
