/*
 * The console's routes, mounted at the app's path by DoctorJobDashboardModule (a subclass per mount
 * carries @Controller(path), the access guard and the error filter).
 *
 * Stable hooks for browser tests (data-testid), beyond the shared contract's:
 *   type-row-<type>        a row of the overview's type table (contract)
 *   paused                 the cell of that row that says "paused" or "no"
 *   job-row-<id>           a row of the jobs list
 *   dead-letter-row-<id>   a row of the dead letters list
 *   match-count            the number of dead letters the list's filter matches
 *   replay, delete, pause, resume, cancel, run-now, bulk-replay, bulk-delete, confirm (contract)
 *   payload, error, stack, flash (contract)
 *   result                 the outcome of an action posted by a plain form (no script)
 *   error-message          the message of an error page
 * Other hooks: <meta name="csrf-token">, the checkbox #auto-refresh, the confirmation #bulk-confirm.
 */
import { BadRequestException, ForbiddenException, Get, Header, HttpCode, Inject, Injectable, Optional, Post, Req, Res, SetMetadata } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DoctorJobAdminService } from '../admin/admin.service';
import { describe } from '../util/describe';
import { DashboardActivity } from './dashboard.activity';
import { DASHBOARD_CSS, DASHBOARD_JS } from './dashboard.assets';
import { CSRF_COOKIE, DASHBOARD_OPTIONS, PUBLIC_ASSET } from './dashboard.constants';
import { DashboardCsrf } from './dashboard.csrf';
import { backLink } from './dashboard.filter';
import type { ResolvedDashboardOptions } from './dashboard.options';
import { bulkOf, echo, filterOf, idOf, limitOf, optionalIds, param, plural, queryOf, requireIds } from './dashboard.params';
import { consoleBase, wantsJson, type RequestLike } from './dashboard.request';
import { deadLetterPage, deadLettersPage, jobPage, jobsPage, messagePage, overviewPage, type PageContext, type QueryEcho } from './dashboard.views';

/** What an action answers (as JSON to the page's script). */
export interface ActionOutcome {
  action: string;
  count: number;
  message: string;
  [key: string]: unknown;
}

@Injectable()
export class DashboardController {
  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    // Optional so that, without DoctorJobModule, the options' factory says what to add (it refuses to start) instead of Nest's generic message.
    @Optional() @Inject(DoctorJobAdminService) private readonly admin: DoctorJobAdminService,
    @Inject(DashboardActivity) private readonly activity: DashboardActivity,
    @Inject(DashboardCsrf) private readonly csrf: DashboardCsrf,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  // ---- assets: the same for everyone and free of data, so served without the access decision

  @Get('assets/dashboard.css')
  @SetMetadata(PUBLIC_ASSET, true)
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=86400')
  stylesheet(@Res() res: unknown): void {
    this.send(res, DASHBOARD_CSS);
  }

  @Get('assets/dashboard.js')
  @SetMetadata(PUBLIC_ASSET, true)
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=86400')
  script(@Res() res: unknown): void {
    this.send(res, DASHBOARD_JS);
  }

  // ---- pages

  @Get()
  async overview(@Req() req: RequestLike, @Res() res: unknown): Promise<void> {
    const ctx = this.page(req, res, '');
    const stats = await this.admin.stats();
    const activity = { startedAt: this.activity.startedAt, types: this.activity.types(), lastHour: (type?: string) => this.activity.lastHour(type) };
    this.send(res, overviewPage(ctx, { stats, activity }));
  }

  @Get('jobs')
  async jobs(@Req() req: RequestLike, @Res() res: unknown): Promise<void> {
    const query = queryOf(req);
    const ctx = this.page(req, res, '/jobs');
    const q = echo(query, ['state', 'type', 'orderingKey', 'dedupKey', 'limit', 'cursor']);
    const [result, paused] = await Promise.all([this.admin.listJobs({
      state: param(query, 'state'),
      type: param(query, 'type'),
      orderingKey: param(query, 'orderingKey'),
      dedupKey: param(query, 'dedupKey'),
      limit: limitOf(query) as number,
      cursor: param(query, 'cursor'),
    }), this.admin.pausedTypes()]);
    this.send(res, jobsPage(ctx, q, result, new Set(paused.map((p) => p.type))));
  }

  @Get('jobs/:id')
  async job(@Req() req: RequestLike, @Res() res: unknown): Promise<void> {
    const id = idOf(req);
    const ctx = this.page(req, res, `/jobs/${id}`);
    const [job, paused] = await Promise.all([this.admin.getJob(id), this.admin.pausedTypes()]);
    this.send(res, jobPage(ctx, job, paused.some((p) => p.type === job.type)));
  }

  /** How many dead letters a filter matches (what a bulk action would touch), as JSON: `{ count }`. */
  @Get('dead-letters/count')
  @Header('Cache-Control', 'no-store')
  async deadLetterCount(@Req() req: RequestLike, @Res() res: unknown): Promise<void> {
    const count = await this.admin.countDeadLetters(filterOf(queryOf(req)));
    this.adapterHost.httpAdapter.setHeader(res, 'Content-Type', 'application/json; charset=utf-8');
    this.send(res, { count });
  }

  @Get('dead-letters')
  async deadLetters(@Req() req: RequestLike, @Res() res: unknown): Promise<void> {
    const query = queryOf(req);
    const ctx = this.page(req, res, '/dead-letters');
    const q = echo(query, ['type', 'reason', 'failedAfter', 'failedBefore', 'limit', 'cursor']);
    const filter = filterOf(query);
    const result = await this.admin.listDeadLetters({ ...filter, limit: limitOf(query) as number, cursor: param(query, 'cursor') });
    this.send(res, deadLettersPage(ctx, q, result, await this.admin.countDeadLetters(filter)));
  }

  @Get('dead-letters/:id')
  async deadLetter(@Req() req: RequestLike, @Res() res: unknown): Promise<void> {
    const id = idOf(req);
    const ctx = this.page(req, res, `/dead-letters/${id}`);
    this.send(res, deadLetterPage(ctx, await this.admin.getDeadLetter(id)));
  }

  // ---- actions: POST, CSRF token required, refused in read-only mode

  @Post('actions/jobs/cancel')
  @HttpCode(200)
  async cancel(@Req() req: RequestLike, @Res() res: unknown) {
    return this.act(req, res, '/actions/jobs/cancel', async (fields) => {
      const result = await this.admin.cancelJobs(requireIds(fields));
      return { action: 'cancel', ...result, message: `Cancelled ${plural(result.count, 'job')}: ${result.count === 1 ? 'it is now a dead letter' : 'they are now dead letters'} with reason cancelled (replay to undo)` };
    });
  }

  @Post('actions/jobs/run-now')
  @HttpCode(200)
  async runNow(@Req() req: RequestLike, @Res() res: unknown) {
    return this.act(req, res, '/actions/jobs/run-now', async (fields) => {
      const result = await this.admin.runJobsNow(requireIds(fields));
      const already = result.alreadyDue.length ? ` (${plural(result.alreadyDue.length, 'job')} already due)` : '';
      return { action: 'run-now', ...result, message: `Made ${plural(result.count, 'job')} due now${already}` };
    });
  }

  @Post('actions/dead-letters/replay')
  @HttpCode(200)
  async replay(@Req() req: RequestLike, @Res() res: unknown) {
    return this.act(req, res, '/actions/dead-letters/replay', async (fields) => {
      const ids = optionalIds(fields);
      const result = ids ? await this.admin.replayDeadLetters(ids) : await this.admin.replayDeadLettersWhere(bulkOf(fields));
      return { action: 'replay', ...result, message: `Replayed ${plural(result.count, 'dead letter')}${result.count ? ` as ${result.count === 1 ? 'job' : 'jobs'} ${result.jobIds.join(', ')}` : ''}` };
    });
  }

  @Post('actions/dead-letters/delete')
  @HttpCode(200)
  async delete(@Req() req: RequestLike, @Res() res: unknown) {
    return this.act(req, res, '/actions/dead-letters/delete', async (fields) => {
      const ids = optionalIds(fields);
      const result = ids ? await this.admin.deleteDeadLetters(ids) : await this.admin.deleteDeadLettersWhere(bulkOf(fields));
      return { action: 'delete', ...result, message: `Deleted ${plural(result.count, 'dead letter')} with ${result.count === 1 ? 'its' : 'their'} attempt history` };
    });
  }

  @Post('actions/pause')
  @HttpCode(200)
  async pause(@Req() req: RequestLike, @Res() res: unknown) {
    return this.act(req, res, '/actions/pause', async (fields) => {
      const result = await this.admin.pause(fields.type as string);
      return { action: 'pause', ...result, count: result.changed ? 1 : 0, message: result.changed ? `Paused ${result.type}: no runner claims its jobs from the next poll on; they stay queued` : `${result.type} was already paused` };
    });
  }

  @Post('actions/resume')
  @HttpCode(200)
  async resume(@Req() req: RequestLike, @Res() res: unknown) {
    return this.act(req, res, '/actions/resume', async (fields) => {
      const result = await this.admin.resume(fields.type as string);
      return { action: 'resume', ...result, count: result.changed ? 1 : 0, message: result.changed ? `Resumed ${result.type}: runners claim its jobs again from the next poll on` : `${result.type} was not paused` };
    });
  }

  // ---- shared steps

  /** Headers and CSRF cookie of a page; its context. */
  private page(req: RequestLike, res: unknown, suffix: string): PageContext {
    const adapter = this.adapterHost.httpAdapter;
    const base = consoleBase(req, this.options.path, suffix);
    const { nonce, fresh } = this.csrf.nonceFor(req.headers);
    adapter.setHeader(res, 'Content-Type', 'text/html; charset=utf-8');
    adapter.setHeader(res, 'Cache-Control', 'no-store');
    // Appended (any cookie the app's guard set on this response stays); a session cookie, scoped to the console's path.
    if (fresh) adapter.setCookie(res, CSRF_COOKIE, nonce, { path: base, httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https' });
    return { base, csrf: this.csrf.tokenFor(nonce), readOnly: this.options.readOnly, refreshMs: this.options.refreshIntervalMs, signOutUrl: this.options.signOutUrl };
  }

  /** Read-only and CSRF checks, then the action; JSON for the page's script, an HTML page for a plain form post. */
  private async act(req: RequestLike, res: unknown, suffix: string, run: (fields: Record<string, unknown>) => Promise<ActionOutcome>): Promise<void> {
    if (this.options.readOnly) throw new ForbiddenException('This console is read-only (readOnly: true): actions are refused; nothing was changed');
    const body = req.body;
    this.csrf.verify(req.headers, body);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new BadRequestException(`The request body must be a JSON object such as {"ids": ["12"]} (or a form), got ${describe(body)}`);
    }
    const outcome = await run(body as Record<string, unknown>);
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(res, 'Cache-Control', 'no-store');
    if (wantsJson(req)) {
      adapter.setHeader(res, 'Content-Type', 'application/json; charset=utf-8');
      this.send(res, outcome);
      return;
    }
    const ctx = this.page(req, res, suffix);
    this.send(res, messagePage({ ...ctx, flash: outcome.message }, { title: 'Done', heading: 'Done', message: outcome.message, testid: 'result', ...backLink(ctx.base, ctx.base + suffix) }));
  }

  /**
   * Answers through the adapter itself (the handlers take @Res() without passthrough), so an
   * app-wide interceptor that rewrites handlers' results (e.g. wraps them in { data }) cannot turn
   * a page into JSON or change an action's answer; the status is the route's own (200).
   */
  private send(res: unknown, body: string | object): void {
    this.adapterHost.httpAdapter.reply(res, body, 200);
  }
}
