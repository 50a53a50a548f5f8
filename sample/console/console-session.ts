import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse, serialize } from 'cookie';
import { CONSOLE_PATH } from './console-access';

export const SESSION_COOKIE = 'doctor_job_console';
/** How long a sign-in lasts. */
export const SESSION_TTL_MS = 12 * 3600_000;

/** Where the session cookie applies; signing out must name the same path for the browser to drop it. */
const cookieScope = (secure: boolean) => ({ httpOnly: true, sameSite: 'strict' as const, secure, path: `/${CONSOLE_PATH}` });

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares in time that depends on neither the tokens' contents nor their lengths. */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Session cookies carry no token: `<expires>.<nonce>.<HMAC-SHA256 of both>` under a key derived
 * from DASHBOARD_TOKEN, so they need no server-side store, every instance with the same token
 * accepts them, they expire, and changing the token signs everyone out.
 */
export class ConsoleSessions {
  private readonly key: Buffer;

  constructor(token: string, private readonly now: () => number = Date.now) {
    this.key = createHmac('sha256', token).update('doctor-job sample console session v1').digest();
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  /** A fresh session cookie's value. */
  issue(): string {
    const body = `${this.now() + SESSION_TTL_MS}.${randomBytes(16).toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** Whether a Cookie header holds a live session of this token. */
  verify(cookieHeader: string | undefined): boolean {
    if (!cookieHeader) return false;
    const value = parse(cookieHeader)[SESSION_COOKIE];
    const parts = value?.split('.');
    if (!parts || parts.length !== 3) return false;
    const [expires, nonce, mac] = parts;
    const expected = Buffer.from(this.mac(`${expires}.${nonce}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    return Number(expires) > this.now();
  }

  /** The Set-Cookie header that signs in; `secure` when the request came over HTTPS. */
  setCookie(secure: boolean): string {
    return serialize(SESSION_COOKIE, this.issue(), { ...cookieScope(secure), maxAge: SESSION_TTL_MS / 1000 });
  }

  /**
   * The Set-Cookie header that signs out: the same cookie, empty and already expired, so the
   * browser drops it. There is no server state to revoke: a copy of the cookie taken before stays
   * valid until it expires (changing DASHBOARD_TOKEN ends every session).
   */
  clearCookie(secure: boolean): string {
    return serialize(SESSION_COOKIE, '', { ...cookieScope(secure), maxAge: 0, expires: new Date(0) });
  }
}
