import type { CanActivate, Type } from '@nestjs/common';

/** Default of `refreshIntervalMs`. */
export const DEFAULT_REFRESH_INTERVAL_MS = 5_000;
/** The shortest auto-refresh interval accepted (each refresh reads the stats from the database). */
export const MIN_REFRESH_INTERVAL_MS = 1_000;

/**
 * Options of `DoctorJobDashboardModule.forRoot()` (and what `forRootAsync()`'s factory returns).
 *
 * The module refuses to start without an access decision: give `guards`, `authorize`, or both
 * (both: every guard must allow, then `authorize`). `readOnly: true` is not an access decision:
 * a read-only console still shows payloads and errors, so it needs one too.
 *
 * @example
 * DoctorJobDashboardModule.forRoot({ path: 'jobs', guards: [AdminGuard] })
 * DoctorJobDashboardModule.forRoot({ path: 'ops/jobs', authorize: (req) => isAdmin(req), readOnly: true })
 */
export interface DoctorJobDashboardOptions {
  /**
   * Where the console is mounted, e.g. `'jobs'` serves `/jobs`, `/jobs/dead-letters`, … (a leading
   * or trailing slash is ignored; the app's global prefix, if any, comes before it). Letters, digits,
   * `-`, `_`, `.`, `~` and `/` between segments. `<path>/login` is left to the app.
   */
  path: string;
  /**
   * Nest guards run on every page, count and action of the console (classes are taken from the
   * app's container when provided there, otherwise instantiated by the module; instances as they
   * are). A guard that returns false answers 403; one that throws (e.g. UnauthorizedException)
   * answers with its exception. The assets under `<path>/assets/` (the package's CSS and script,
   * the same for everyone, no data) are served without them.
   */
  guards?: (Type<CanActivate> | CanActivate)[];
  /**
   * An access decision as a callback, given the adapter's request (Express `Request` or Fastify
   * `FastifyRequest`); false (or a rejected promise) answers 403. Runs after `guards`.
   */
  authorize?: (request: unknown) => boolean | Promise<boolean>;
  /** Shows no action control, and refuses every action request with 403. Default false. */
  readOnly?: boolean;
  /**
   * The key of the CSRF tokens (HMAC-SHA256 of a random per-browser nonce kept in an HttpOnly,
   * SameSite=Strict cookie). At least 32 characters. Default: 32 random bytes per process, so
   * tokens of one process do not work in another: give the same secret to every instance behind
   * one load balancer without sticky sessions.
   */
  csrfSecret?: string;
  /** How often the open page refreshes its lists and overview, in ms (default 5000, at least 1000; 0 turns it off). */
  refreshIntervalMs?: number;
  /**
   * Where the app's own sign-in lives (a path on this site, e.g. `'/jobs/login'`): a 401 page of
   * the console links to it ("Sign in") instead of back into pages that would answer 401 again.
   */
  signInUrl?: string;
  /**
   * Where the app signs an operator out (a path on this site, e.g. `'/jobs/logout'`): every page's
   * header gets a "Sign out" button that POSTs there (a plain form; the app's endpoint does the
   * signing out and its own CSRF check, as the console cannot know how the app keeps sessions).
   */
  signOutUrl?: string;
}

/** What `DoctorJobDashboardModule.forRootAsync()` takes: the mount path up front (routes are fixed when the app is built), the rest from a factory. */
export interface DoctorJobDashboardAsyncOptions {
  /** As DoctorJobDashboardOptions.path. Routes are registered before any factory runs, so the path cannot come from one. */
  path: string;
  imports?: any[];
  inject?: any[];
  useFactory: (...args: any[]) => Omit<DoctorJobDashboardOptions, 'path'> | Promise<Omit<DoctorJobDashboardOptions, 'path'>>;
}

/** The options once checked, defaults applied. */
export interface ResolvedDashboardOptions {
  path: string;
  guards: (Type<CanActivate> | CanActivate)[];
  authorize?: (request: unknown) => boolean | Promise<boolean>;
  readOnly: boolean;
  csrfSecret: string | null;
  refreshIntervalMs: number;
  signInUrl: string | null;
  signOutUrl: string | null;
}

/** DoctorJobDashboardModule options that cannot work; thrown while the app starts. */
export class InvalidDashboardOptionsError extends Error {
  override readonly name = 'InvalidDashboardOptionsError';
  constructor(readonly problems: string[]) {
    super(`Invalid DoctorJobDashboardModule options:\n  - ${problems.join('\n  - ')}`);
  }
}

/** The mount path without leading/trailing slashes; throws when it is not a usable path. */
export function normalizePath(path: unknown): string {
  const problems = pathProblems(path);
  if (problems.length) throw new InvalidDashboardOptionsError(problems);
  return (path as string).replace(/^\/+|\/+$/g, '');
}

function pathProblems(path: unknown): string[] {
  if (typeof path !== 'string') return [`path is required: the URL path to mount the console at, e.g. path: 'jobs' (got ${typeof path})`];
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return [`path must name a segment, e.g. 'jobs' (got '${path}'): the console does not take over the app's root`];
  if (!/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(trimmed)) {
    return [`path may hold letters, digits, '-', '_', '.', '~' and single '/' between segments, got ${JSON.stringify(path)}`];
  }
  return [];
}

/** Checks every option at once and applies the defaults. */
export function resolveDashboardOptions(options: DoctorJobDashboardOptions): ResolvedDashboardOptions {
  const problems: string[] = [];
  if (typeof options !== 'object' || options === null) throw new InvalidDashboardOptionsError(['the options must be an object with path and guards or authorize']);
  problems.push(...pathProblems(options.path));
  const { guards, authorize, readOnly, csrfSecret, refreshIntervalMs, signInUrl, signOutUrl } = options;
  if (guards !== undefined && !(Array.isArray(guards) && guards.every((g) => typeof g === 'function' || (typeof g === 'object' && g !== null && typeof (g as CanActivate).canActivate === 'function')))) {
    problems.push('guards must be an array of guard classes or instances (objects with canActivate)');
  }
  if (authorize !== undefined && typeof authorize !== 'function') problems.push('authorize must be a function (request) => boolean | Promise<boolean>');
  const hasGuards = Array.isArray(guards) && guards.length > 0;
  if (!hasGuards && authorize === undefined) {
    problems.push(
      `no access decision: the console shows payloads and errors and can replay or delete jobs, so it needs guards: [YourAuthGuard] or authorize: (request) => boolean` +
        (readOnly === true ? ` (readOnly: true limits what it does, not who sees it: add guards or authorize as well)` : ''),
    );
  }
  if (readOnly !== undefined && typeof readOnly !== 'boolean') problems.push('readOnly must be true or false');
  if (csrfSecret !== undefined && !(typeof csrfSecret === 'string' && csrfSecret.length >= 32)) {
    problems.push('csrfSecret must be a string of at least 32 characters (or left out for a random one per process)');
  }
  if (refreshIntervalMs !== undefined && !(Number.isSafeInteger(refreshIntervalMs) && (refreshIntervalMs === 0 || refreshIntervalMs >= MIN_REFRESH_INTERVAL_MS))) {
    problems.push(`refreshIntervalMs must be 0 (off) or an integer of at least ${MIN_REFRESH_INTERVAL_MS} (ms), got ${String(refreshIntervalMs)}`);
  }
  for (const [name, value, example] of [['signInUrl', signInUrl, '/jobs/login'], ['signOutUrl', signOutUrl, '/jobs/logout']] as const) {
    if (value !== undefined && !(typeof value === 'string' && /^\/(?![/\\])\S*$/.test(value))) {
      problems.push(`${name} must be a path on this site starting with one / (such as '${example}'), got ${JSON.stringify(value)}`);
    }
  }
  if (problems.length) throw new InvalidDashboardOptionsError(problems);
  return {
    path: normalizePath(options.path),
    guards: guards ?? [],
    authorize,
    readOnly: readOnly ?? false,
    csrfSecret: csrfSecret ?? null,
    refreshIntervalMs: refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS,
    signInUrl: signInUrl ?? null,
    signOutUrl: signOutUrl ?? null,
  };
}
