import { createHash } from 'node:crypto';
import { CONSOLE_LOGIN_PATH, CONSOLE_LOGOUT_PATH, CONSOLE_PATH } from './console-access';

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}' +
  'input,button{font:inherit;padding:.4rem .6rem}input{width:100%;box-sizing:border-box;margin:.3rem 0 1rem}' +
  '.problem{color:#a40e26}';

/** No script, nothing from elsewhere; the one inline style allowed by its hash. */
export const PAGE_CSP =
  `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; ` +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
  `<title>${title}</title><style>${STYLE}</style></head><body>${body}</body></html>`;

/** The sign-in form; `problem` is one of the console's fixed texts (WRONG_TOKEN, NOT_SAME_ORIGIN), never user input. */
export function loginPage(problem?: string): string {
  return page(
    'Sign in: Doctor Job console',
    `<h1>Doctor Job console</h1>` +
      (problem ? `<p class="problem" role="alert" data-testid="login-problem">${problem}</p>` : '') +
      `<form method="post" action="/${CONSOLE_LOGIN_PATH}"><label for="token">Console token (DASHBOARD_TOKEN)</label>` +
      `<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>` +
      `<button type="submit" data-testid="sign-in">Sign in</button></form>`,
  );
}

/**
 * /jobs/login for a browser that is signed in already: the way to the console, and the sign-out
 * button (the dashboard's own pages are the package's and have no place for one).
 */
export function signedInPage(): string {
  return page(
    'Signed in: Doctor Job console',
    `<h1>Doctor Job console</h1><p data-testid="signed-in">This browser is signed in to the console.</p>` +
      `<p><a href="/${CONSOLE_PATH}" data-testid="open-console">Open the console</a></p>` +
      `<form method="post" action="/${CONSOLE_LOGOUT_PATH}"><button type="submit" data-testid="sign-out">Sign out</button></form>`,
  );
}

/** What /jobs/login answers when DASHBOARD_TOKEN is not set (fixed text, nothing from the request). */
export const SIGN_IN_OFF = `Signing in is off: DASHBOARD_TOKEN is not set, so /${CONSOLE_PATH} is read-only for loopback clients. Set DASHBOARD_TOKEN to sign in.`;

/** The page a browser gets for /jobs/login without DASHBOARD_TOKEN: why, what to do, and the way to the read-only console. */
export function signInOffPage(): string {
  return page(
    'Signing in is off: Doctor Job console',
    `<h1>Doctor Job console</h1><p class="problem" data-testid="login-problem">${SIGN_IN_OFF}</p>` +
      `<p><a href="/${CONSOLE_PATH}">Open the read-only console</a> (from this machine only).</p>`,
  );
}

export const WRONG_TOKEN = 'That is not the console token. Nothing was signed in.';
