import { CONSOLE_LOGIN_PATH } from './console-access';

/** The request headers a same-origin check reads (Express and Fastify both lower-case them). */
type Headers = Record<string, string | string[] | undefined>;

const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * Whether a POST comes from one of this site's own pages, which is what keeps another site from
 * submitting a form here (sign-out has no secret to check, unlike sign-in's token). A browser
 * sends `Sec-Fetch-Site` (it computes it; a page cannot set it), or at least `Origin` on a POST,
 * which must then name the host the request was sent to. A request with neither is refused: a
 * browser that sends neither cannot be told apart from a forged form, and a script can send `Origin`.
 */
export function isSameOrigin(headers: Headers): boolean {
  const site = one(headers['sec-fetch-site']);
  if (site !== undefined) return site === 'same-origin';
  const origin = one(headers.origin);
  const host = one(headers.host);
  if (origin === undefined || host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false; // "null" (a sandboxed frame, a redirect across sites) or not a URL
  }
}

export const NOT_SAME_ORIGIN =
  "Sign-out refused: the request did not come from one of this console's pages (no Sec-Fetch-Site: same-origin, nor an Origin matching the Host). " +
  `Use the Sign out button at /${CONSOLE_LOGIN_PATH}.`;
