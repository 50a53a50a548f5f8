import { Body, Controller, Get, Inject, NotFoundException, Post, Req, Res } from '@nestjs/common';
import { IsString, MaxLength } from 'class-validator';
import { CONSOLE_ACCESS } from './console-access.module';
import { CONSOLE_LOGIN_PATH, CONSOLE_PATH, type ConsoleAccess } from './console-access';
import { ConsoleSessions, sameToken } from './console-session';
import { loginPage, PAGE_CSP, WRONG_TOKEN } from './console-pages';

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

  private signInAvailable(): string {
    if (this.access.mode === 'token') return this.access.token;
    throw new NotFoundException(
      `Signing in is off: DASHBOARD_TOKEN is not set, so /${CONSOLE_PATH} is read-only for loopback clients. Set DASHBOARD_TOKEN to sign in.`,
    );
  }

  @Get()
  form(@Res() response: HtmlResponse): void {
    this.signInAvailable();
    html(response, 200, loginPage());
  }

  @Post()
  signIn(@Body() body: ConsoleLoginBody, @Req() request: { secure?: boolean }, @Res() response: HtmlResponse): void {
    const token = this.signInAvailable();
    if (!sameToken(body.token, token)) {
      html(response, 401, loginPage(WRONG_TOKEN));
      return;
    }
    // 303: the browser follows with a GET of the console.
    response.status(303).setHeader('Set-Cookie', this.sessions!.setCookie(request.secure === true)).setHeader('Location', `/${CONSOLE_PATH}`).end();
  }
}
