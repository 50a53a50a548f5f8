import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { IsString, MaxLength } from 'class-validator';
import { CONSOLE_ACCESS } from './console-access.module';
import { CONSOLE_LOGIN_PATH, CONSOLE_PATH, type ConsoleAccess } from './console-access';
import { ConsoleSessions, sameToken } from './console-session';
import { loginPage, PAGE_CSP, signInOffPage, WRONG_TOKEN } from './console-pages';

export class ConsoleLoginBody {
  @IsString()
  @MaxLength(4096)
  token!: string;
}

/** The part of Express's response this controller uses (the sample runs on Express). */
interface HtmlResponse {
  status(code: number): this;
  setHeader(name: string, value: string): this;
  send(body: string): unknown;
  end(): unknown;
}

const html = (response: HtmlResponse, status: number, body: string) =>
  response
    .status(status)
    .setHeader('Content-Type', 'text/html; charset=utf-8')
    .setHeader('Content-Security-Policy', PAGE_CSP)
    .setHeader('Cache-Control', 'no-store')
    .send(body);

/** GET /jobs/login shows the form; POST checks the token and sets the session cookie. Not behind the console's guard. */
@Controller(CONSOLE_LOGIN_PATH)
export class ConsoleLoginController {
  private readonly sessions: ConsoleSessions | undefined;

  constructor(@Inject(CONSOLE_ACCESS) private readonly access: ConsoleAccess) {
    this.sessions = access.mode === 'token' ? new ConsoleSessions(access.token) : undefined;
  }

  @Get()
  form(@Res() response: HtmlResponse): void {
    // Without DASHBOARD_TOKEN there is nothing to sign in with: a page (not Nest's JSON) saying so and how to turn it on.
    if (this.access.mode !== 'token') return void html(response, 404, signInOffPage());
    html(response, 200, loginPage());
  }

  @Post()
  signIn(@Body() body: ConsoleLoginBody, @Req() request: { secure?: boolean }, @Res() response: HtmlResponse): void {
    if (this.access.mode !== 'token') return void html(response, 404, signInOffPage());
    const token = this.access.token;
    if (!sameToken(body.token, token)) {
      html(response, 401, loginPage(WRONG_TOKEN));
      return;
    }
    // 303: the browser follows with a GET of the console.
    response.status(303).setHeader('Set-Cookie', this.sessions!.setCookie(request.secure === true)).setHeader('Location', `/${CONSOLE_PATH}`).end();
  }
}
