import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isLoopbackBind, isLoopbackHost, StudioAccess } from '../../../src/studio/index.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const withCookie = (id: string, extra: Record<string, string> = {}) => request({ cookie: `other=1; mergeshot_studio=${id}`, ...extra });

describe('StudioAccess', () => {
  it('finds a session by its cookie and checks its CSRF token in constant time', () => {
    const access = new StudioAccess({ open: true, apiKeys: [], idleMs: 60_000 });
    const session = access.create();
    expect(access.session(withCookie(session.id))).toBe(session);
    expect(access.session(withCookie('forged'))).toBeUndefined();
    expect(access.session(request({}))).toBeUndefined();
    expect(access.checkCsrf(request({ 'x-csrf-token': session.csrf }), session)).toBe(true);
    expect(access.checkCsrf(request({ 'x-csrf-token': `${session.csrf}x` }), session)).toBe(false);
    expect(access.checkCsrf(request({}), session)).toBe(false);
  });

  it('ends a session idle longer than idleMs, and keeps one in use', () => {
    let now = 0;
    const access = new StudioAccess({ open: true, apiKeys: [], idleMs: 1_000, now: () => now });
    const session = access.create();
    now = 900;
    expect(access.session(withCookie(session.id))).toBe(session);
    now = 1_800; // 900 ms after its last use
    expect(access.session(withCookie(session.id))).toBe(session);
    now = 2_801;
    expect(access.session(withCookie(session.id))).toBeUndefined();
    expect(access.session(withCookie(session.id))).toBeUndefined();
  });

  it('keeps at most maxSessions, dropping the least recently used', () => {
    const access = new StudioAccess({ open: true, apiKeys: [], idleMs: 60_000, maxSessions: 2 });
    const [a, b] = [access.create(), access.create()];
    access.session(withCookie(a.id)); // a is now the most recently used
    const c = access.create();
    expect(access.session(withCookie(b.id))).toBeUndefined();
    expect(access.session(withCookie(a.id))).toBe(a);
    expect(access.session(withCookie(c.id))).toBe(c);
  });

  it('logs in with the password or an API key; the one-time token works once and only without a password', () => {
    const withPassword = new StudioAccess({ open: false, password: 'a studio password', apiKeys: ['an api key of 16+ chars'], idleMs: 60_000 });
    expect(withPassword.loginToken).toBeUndefined();
    expect(withPassword.verify('a studio password')).toBe(true);
    expect(withPassword.verify('an api key of 16+ chars')).toBe(true);
    expect(withPassword.verify('a studio passwore')).toBe(false);

    const firstRun = new StudioAccess({ open: false, apiKeys: [], idleMs: 60_000 });
    const token = firstRun.loginToken!;
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(firstRun.verify(token)).toBe(true);
    expect(firstRun.loginToken).toBeUndefined();
    expect(firstRun.verify(token)).toBe(false);
    expect(new StudioAccess({ open: true, apiKeys: [], idleMs: 60_000 }).loginToken).toBeUndefined();
  });

  it('writes HttpOnly SameSite=Strict cookies, Secure behind HTTPS, and a clearing cookie', () => {
    const access = new StudioAccess({ open: true, apiKeys: [], idleMs: 3_600_000 });
    const session = access.create();
    expect(access.cookie(session, false)).toBe(`mergeshot_studio=${session.id}; Max-Age=3600; Path=/; HttpOnly; SameSite=Strict`);
    expect(access.cookie(session, true)).toMatch(/; Secure$/);
    expect(access.cookie(undefined, false)).toBe('mergeshot_studio=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict');
  });
});

describe('loopback names', () => {
  it('accepts only names of this machine in Host (a DNS-rebinding page names its own domain)', () => {
    for (const host of ['localhost', 'localhost:3000', '127.0.0.1:3000', '127.1.2.3', '[::1]:3000', 'studio.localhost:8080']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['evil.example:3000', '192.168.1.5:3000', 'localhost.evil.example', '127.0.0.1.nip.io', '', undefined]) expect(isLoopbackHost(host), String(host)).toBe(false);
  });

  it('tells a loopback bind from one the network reaches', () => {
    expect(isLoopbackBind('127.0.0.1')).toBe(true);
    expect(isLoopbackBind('::1')).toBe(true);
    expect(isLoopbackBind('localhost')).toBe(true);
    expect(isLoopbackBind('0.0.0.0')).toBe(false);
    expect(isLoopbackBind('::')).toBe(false);
    expect(isLoopbackBind('192.168.1.5')).toBe(false);
  });
});
