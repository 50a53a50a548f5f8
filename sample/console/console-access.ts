/** Where the sample mounts the dashboard (`/jobs`), and the page that signs in to it. */
export const CONSOLE_PATH = 'jobs';
export const CONSOLE_LOGIN_PATH = `${CONSOLE_PATH}/login`;
/** POST only: clears the session cookie. */
export const CONSOLE_LOGOUT_PATH = `${CONSOLE_PATH}/logout`;

/** A shorter DASHBOARD_TOKEN is refused at start-up: the token is the only thing between the console and the network. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Who may use the sample's console, decided once from the environment when the app is created:
 * - `token`: DASHBOARD_TOKEN is set; a request needs `Authorization: Bearer <token>` or the
 *   session cookie that signing in at /jobs/login sets; the console may act.
 * - `loopback`: DASHBOARD_TOKEN is unset; the console is read-only and answers loopback clients only.
 */
export type ConsoleAccess = { mode: 'token'; token: string } | { mode: 'loopback' };

export function consoleAccessFromEnv(env: NodeJS.ProcessEnv = process.env): ConsoleAccess {
  const token = env.DASHBOARD_TOKEN;
  if (token === undefined || token === '') return { mode: 'loopback' };
  if (token.length < MIN_TOKEN_LENGTH || token.trim() !== token) {
    throw new Error(
      `DASHBOARD_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters with no surrounding spaces (got ${token.length} characters); ` +
        'generate one with `openssl rand -hex 32`, or leave it unset for a read-only console on loopback only.',
    );
  }
  return { mode: 'token', token };
}

/** The start-up line's words about the console. */
export function describeConsole(access: ConsoleAccess, baseUrl: string): string {
  const url = `${baseUrl}/${CONSOLE_PATH}`;
  return access.mode === 'token'
    ? `console on ${url}: DASHBOARD_TOKEN set, sign in at ${baseUrl}/${CONSOLE_LOGIN_PATH} or send Authorization: Bearer <token>`
    : `console on ${url}: read-only, loopback clients only (set DASHBOARD_TOKEN to sign in and act)`;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** The TCP peer's address, never a forwarded header: a client cannot claim to be local. */
export const isLoopback = (remoteAddress: string | undefined): boolean => remoteAddress !== undefined && LOOPBACK.has(remoteAddress);
