/** What the console reads from a request, the same way under Express and Fastify (both have `headers`, `url`, `method`). */
export interface RequestLike {
  method: string;
  url: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  protocol?: string;
  query?: unknown;
  params?: unknown;
  body?: unknown;
}

const SAFE_BASE = /^(\/[A-Za-z0-9._~-]+)+$/;

/**
 * The console's URL path as this request reached it (with the app's global prefix, if any): the
 * request's path minus the route's own part. Falls back to `/<path>` when the URL is not what the
 * route implies, and is only ever letters, digits and `-._~/` (it goes into links and the cookie path).
 */
export function consoleBase(request: RequestLike, path: string, suffix?: string): string {
  const fallback = `/${path}`;
  const url = (request.originalUrl ?? request.url ?? '').split('?')[0].replace(/\/+$/, '');
  let base = url;
  if (suffix !== undefined) {
    if (!url.endsWith(suffix)) return fallback;
    base = url.slice(0, url.length - suffix.length);
  } else {
    // The mount path's first occurrence as whole segments (after the app's global prefix, if any).
    const at = `${url}/`.indexOf(`${fallback}/`);
    base = at < 0 ? fallback : url.slice(0, at + fallback.length);
  }
  return SAFE_BASE.test(base) && base.endsWith(fallback) ? base : fallback;
}

/** Whether the client sent JSON or asks for it (the page's script does both). */
export function wantsJson(request: RequestLike): boolean {
  const type = String(request.headers['content-type'] ?? '');
  const accept = String(request.headers.accept ?? '');
  return type.includes('application/json') || (accept.includes('application/json') && !accept.includes('text/html'));
}
