import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { IsString, MaxLength } from 'class-validator';
import { CONSOLE_ACCESS } from './console-access.module';
import { CONSOLE_LOGIN_PATH, CONSOLE_PATH, type ConsoleAccess } from './console-access';
import { isSameOrigin, NOT_SAME_ORIGIN } from './console-origin';
import { ConsoleSessions, sameToken } from './console-session';
import { loginPage, PAGE_CSP, signedInPage, signInOffPage, WRONG_TOKEN } from './console-pages';

export class ConsoleLoginBody {
  @IsString()
  @MaxLength(4096)
  token!: string;
}

/** The part of the response this controller uses: Express's `Response` and Fastify's `FastifyReply` both have these. */
interface HtmlResponse {
  status(code: number): this;
  header(name: string, value: string): this;
  send(body: string): unknown;
}

/** The part of the request it reads: `secure` is Express's, `protocol` Fastify's (both honour trust proxy). */
interface ConsoleRequest {
  headers: Record<string, string | string[] | undefined>;
  secure?: boolean;
  protocol?: string;
}

const html = (response: HtmlResponse, status: number, body: string) =>
  response
    .status(status)
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Content-Security-Policy', PAGE_CSP)
    .header('Cache-Control', 'no-store')
    .send(body);

/** 303: the browser follows with a GET of `location`. */
const seeOther = (response: HtmlResponse, location: string, setCookie: string) =>
  response.status(303).header('Set-Cookie', setCookie).header('Location', location).header('Cache-Control', 'no-store').send('');

const overHttps = (request: ConsoleRequest) => request.secure === true || request.protocol === 'https';

/**
 * GET /jobs/login shows the form (or, signed in already, the sign-out button); POST checks the token
 * and sets the session cookie; POST /jobs/logout clears it. Not behind the console's guard.
 */
@Controller(CONSOLE_PATH)
export class ConsoleLoginController {
  private readonly sessions: ConsoleSessions | undefined;

  constructor(@Inject(CONSOLE_ACCESS) private readonly access: ConsoleAccess) {
    this.sessions = access.mode === 'token' ? new ConsoleSessions(access.token) : undefined;
  }

  @Get('login')
  form(@Req() request: ConsoleRequest, @Res() response: HtmlResponse): void {
    // Without DASHBOARD_TOKEN there is nothing to sign in with: a page (not Nest's JSON) saying so and how to turn it on.
    if (!this.sessions) return void html(response, 404, signInOffPage());
    const cookie = request.headers.cookie;
    html(response, 200, this.sessions.verify(Array.isArray(cookie) ? cookie.join('; ') : cookie) ? signedInPage() : loginPage());
  }

  @Post('login')
  signIn(@Body() body: ConsoleLoginBody, @Req() request: ConsoleRequest, @Res() response: HtmlResponse): void {
    if (this.access.mode !== 'token') return void html(response, 404, signInOffPage());
    if (!sameToken(body.token, this.access.token)) return void html(response, 401, loginPage(WRONG_TOKEN));
    seeOther(response, `/${CONSOLE_PATH}`, this.sessions!.setCookie(overHttps(request)));
  }

  /**
   * Signs this browser out. It needs no token (it only takes access away), but it must come from the
   * console's own page: else any site could sign an operator out with a hidden form.
   */
  @Post('logout')
  signOut(@Req() request: ConsoleRequest, @Res() response: HtmlResponse): void {
    if (!this.sessions) return void html(response, 404, signInOffPage());
    if (!isSameOrigin(request.headers)) return void html(response, 403, loginPage(NOT_SAME_ORIGIN));
    seeOther(response, `/${CONSOLE_LOGIN_PATH}`, this.sessions.clearCookie(overHttps(request)));
  }
}
