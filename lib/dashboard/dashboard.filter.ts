import { Catch, HttpException, Inject, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DASHBOARD_OPTIONS } from './dashboard.constants';
import { SECURITY_HEADERS } from './dashboard.headers';
import type { ResolvedDashboardOptions } from './dashboard.options';
import { consoleBase, wantsJson } from './dashboard.request';
import { messagePage } from './dashboard.views';

/** Where an error page sends the operator: the list the failing page or action belongs to (its filter cleared), else the overview. */
export function backLink(base: string, url: string): { back: string; backLabel: string } {
  const rest = url.split('?')[0].slice(base.length);
  if (/^\/(actions\/)?dead-letters(\/|$)/.test(rest)) return { back: `${base}/dead-letters`, backLabel: 'Back to the dead letters' };
  if (/^\/(actions\/)?jobs(\/|$)/.test(rest)) return { back: `${base}/jobs`, backLabel: 'Back to the jobs' };
  return { back: base, backLabel: 'Back to the overview' };
}

/**
 * Every error of a console route as a clear answer: its status (the admin service's
 * InvalidArgumentError is a 400, DeadLetterNotFoundError / JobNotFoundError a 404, JobRunningError a
 * 409, a refused access or CSRF check a 403) and its message, as JSON to the page's script (or any
 * client asking for JSON) and as an HTML page otherwise, with the security headers. Anything else
 * is logged and answered 500 without its details.
 */
@Catch()
export class DashboardExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('DoctorJobDashboard');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest();
    const response = http.getResponse();
    const adapter = this.adapterHost.httpAdapter;
    let status = 500;
    let message = 'Internal error in the Doctor Job console: see the server log';
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const text = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      message = Array.isArray(text) ? text.join('; ') : typeof text === 'string' ? text : exception.message;
    } else {
      this.logger.error(`${request.method} ${request.url} failed: ${(exception as Error)?.stack ?? String(exception)}`);
    }
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) adapter.setHeader(response, name, value);
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    const error = exception instanceof HttpException ? exception.name : 'Error';
    if (wantsJson(request)) {
      adapter.setHeader(response, 'Content-Type', 'application/json; charset=utf-8');
      adapter.reply(response, { statusCode: status, error, message }, status);
      return;
    }
    const base = consoleBase(request, this.options.path);
    const html = messagePage(
      // The console's own mode (a writable console's error page says nothing of read-only); no token, so no action control;
      // sign-out for whoever is signed in (not on a 401: nobody is).
      { base, csrf: '', readOnly: this.options.readOnly, refreshMs: 0, signOutUrl: status === 401 ? null : this.options.signOutUrl },
      { title: `Error ${status}`, heading: `Error ${status}`, message, testid: 'error-message', ...(status === 401 && this.options.signInUrl ? { back: this.options.signInUrl, backLabel: 'Sign in' } : backLink(base, String(request.originalUrl ?? request.url ?? ''))) },
    );
    adapter.setHeader(response, 'Content-Type', 'text/html; charset=utf-8');
    adapter.reply(response, html, status);
  }
}
