/**
 * Claim tokens that name their claim: the token of each claim is a UUIDv8 (RFC 9562, custom layout)
 * carrying the claiming runner's instance key and the time it sent the claim. So a running job's
 * holder ("which instance, since when") is read from the token it already stores, and the claim
 * statement writes nothing more than it always did (a wider row would cost PostgreSQL HOT updates:
 * measured, stamping a holder column and a claim time made the claim ~30 % slower).
 *
 * Layout (hex digits): tttttttt-tttt-8kkk-Vkkk-kkrrrrrrrrrr: t the claim time (48-bit Unix ms, the
 * runner's clock), 8 the version, k the instance key (32 bits), V the variant (10xx), r random.
 * A token of any other shape (a plain random UUID) names no instance.
 */
import { randomBytes, randomFillSync } from 'node:crypto';

/** A runner instance's key: 8 hex digits, random per process. */
export function newInstanceKey(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Random bytes for the tokens, drawn from the system's generator 6 KiB at a time: one call per
 * token (randomBytes(6)) cost 5-25 µs each on the 2-core bench machine, a few µs per job with the
 * default claims of 10 jobs; crypto.randomUUID pools its entropy the same way.
 */
const pool = Buffer.alloc(6 * 1024);
let used = pool.length;
function sixRandomBytes(): Buffer {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += 6;
  return pool.subarray(used - 6, used);
}

/** Each byte's two hex digits (Buffer.toString('hex') on 5 bytes costs more than the lookups). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** A claim token of the instance `key`, claiming at `at` (ms since epoch). */
export function claimToken(key: string, at: number = Date.now()): string {
  const time = Math.max(0, Math.floor(at)).toString(16).padStart(12, '0').slice(-12);
  const random = sixRandomBytes();
  const variant = (8 | (random[0] & 3)).toString(16);
  const tail = HEX[random[1]] + HEX[random[2]] + HEX[random[3]] + HEX[random[4]] + HEX[random[5]]; // 10 hex digits
  return `${time.slice(0, 8)}-${time.slice(8)}-8${key.slice(0, 3)}-${variant}${key.slice(3, 6)}-${key.slice(6, 8)}${tail}`;
}

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The instance key a claim token carries, or null for a token of another shape. */
export function tokenInstanceKey(token: string | null | undefined): string | null {
  if (!token || !SHAPE.test(token)) return null;
  return token.slice(15, 18) + token.slice(20, 23) + token.slice(24, 26);
}

/** When the claim of a token was sent (the claiming runner's clock), or null for a token of another shape. */
export function tokenTime(token: string | null | undefined): Date | null {
  if (!token || !SHAPE.test(token)) return null;
  return new Date(parseInt(token.slice(0, 8) + token.slice(9, 13), 16));
}
