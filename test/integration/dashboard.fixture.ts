import type { DynamicModule, INestApplication, NestInterceptor, PipeTransform, Provider } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DoctorJobAdminService, DoctorJobModule, OutboxService } from 'doctor-job';
import { JobTester } from 'doctor-job/testing';
import { CapturedLogs, type AnyJobs } from '../support/outbox-app';
import type { TestDatabase } from '../support/databases';

/** An app with DoctorJobModule (runner off: tests drain when they need jobs run) and a dashboard module, over HTTP. */
export interface DashboardApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  admin: DoctorJobAdminService;
  outbox: OutboxService<AnyJobs>;
  tester: JobTester;
  logs: CapturedLogs;
  enqueue(type: string, payload?: unknown, options?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startDashboardApp(
  db: TestDatabase,
  dashboard: DynamicModule,
  options: { providers?: Provider[]; adapter?: 'express' | 'fastify'; globalPrefix?: string; globalPipes?: PipeTransform[]; globalInterceptors?: NestInterceptor[] } = {},
): Promise<DashboardApp> {
  const logs = new CapturedLogs();
  const module = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma: db.prisma, autoStart: false }), dashboard],
    providers: options.providers ?? [],
  })
    .setLogger(logs)
    .compile();
  const app = options.adapter === 'fastify' ? module.createNestApplication(new FastifyAdapter()) : module.createNestApplication();
  app.useLogger(logs);
  if (options.globalPrefix) app.setGlobalPrefix(options.globalPrefix);
  if (options.globalPipes) app.useGlobalPipes(...options.globalPipes);
  if (options.globalInterceptors) app.useGlobalInterceptors(...options.globalInterceptors);
  await app.init();
  if (options.adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  const outbox = app.get<OutboxService<AnyJobs>>(OutboxService);
  return {
    app,
    http: request(app.getHttpServer()),
    admin: app.get(DoctorJobAdminService),
    outbox,
    tester: JobTester.from(app),
    logs,
    enqueue: (type, payload = {}, opts = {}) => outbox.transaction((tx) => outbox.enqueue(tx, type, payload, opts)),
    close: () => app.close(),
  };
}

/** A browser's session with the console: the CSRF cookie a page set, and the token of its <meta>. */
export interface ConsoleSession {
  cookie: string;
  token: string;
}

export async function openSession(http: DashboardApp['http'], page = '/jobs'): Promise<ConsoleSession> {
  const response = await http.get(page).expect(200);
  const setCookie = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const cookie = setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith('doctor_job_csrf='));
  const token = /<meta name="csrf-token" content="([^"]+)">/.exec(response.text)?.[1];
  if (!cookie || !token) throw new Error(`the page ${page} set no CSRF cookie or token: ${JSON.stringify(response.headers)}`);
  return { cookie, token };
}

/** Posts an action as the page's script does: JSON body, token in the header, the cookie. */
export function postAction(http: DashboardApp['http'], path: string, session: ConsoleSession, body: unknown) {
  return http.post(path).set('cookie', session.cookie).set('x-csrf-token', session.token).set('accept', 'application/json').send(body as object);
}

/** The data-testid values in a page. */
export function testIds(html: string): string[] {
  return [...html.matchAll(/data-testid="([^"]*)"/g)].map((m) => m[1]);
}

interface HtmlNode {
  nodeName: string;
  tagName?: string;
  attrs?: { name: string; value: string }[];
  childNodes?: HtmlNode[];
  content?: HtmlNode;
  value?: string;
}

/** Every element and text of a page, parsed as a browser parses it (parse5 follows the HTML standard). */
export function parsePage(html: string): { elements: HtmlNode[]; text: string; errors: string[] } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require('parse5') as { parse(html: string, options: { onParseError: (error: { code: string; startLine: number; startCol: number }) => void }): HtmlNode };
  const errors: string[] = [];
  const elements: HtmlNode[] = [];
  let text = '';
  const walk = (node: HtmlNode) => {
    if (node.tagName) elements.push(node);
    if (node.nodeName === '#text') text += node.value;
    for (const child of node.childNodes ?? []) walk(child);
    if (node.content) walk(node.content);
  };
  walk(parse(html, { onParseError: (e) => errors.push(`${e.code} at ${e.startLine}:${e.startCol}`) }));
  return { elements, text, errors };
}

export const attr = (node: HtmlNode, name: string) => node.attrs?.find((a) => a.name === name)?.value;
