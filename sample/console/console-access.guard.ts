import { ForbiddenException, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { CONSOLE_LOGIN_PATH, isLoopback, type ConsoleAccess } from './console-access';
import { ConsoleSessions, sameToken } from './console-session';

interface ConsoleRequest {
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
}

/** The sample's access decision for the dashboard (see ConsoleAccess). Works on Express and Fastify requests alike. */
export class ConsoleAccessGuard implements CanActivate {
  private readonly sessions: ConsoleSessions | undefined;

  constructor(private readonly access: ConsoleAccess) {
    this.sessions = access.mode === 'token' ? new ConsoleSessions(access.token) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    if (this.access.mode === 'loopback') {
      if (isLoopback(request.socket?.remoteAddress)) return true;
      throw new ForbiddenException(
        'DASHBOARD_TOKEN is not set, so the console answers loopback clients only (127.0.0.1, ::1), read-only. Set DASHBOARD_TOKEN to open it to others.',
      );
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(String(request.headers.authorization ?? ''))?.[1];
    if (bearer !== undefined && sameToken(bearer, this.access.token)) return true;
    const cookie = request.headers.cookie;
    if (this.sessions!.verify(Array.isArray(cookie) ? cookie.join('; ') : cookie)) return true;
    throw new UnauthorizedException(`The console needs a sign-in: send Authorization: Bearer <DASHBOARD_TOKEN>, or sign in at /${CONSOLE_LOGIN_PATH}.`);
  }
}
