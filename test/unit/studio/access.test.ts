import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { isForwarded, isLoopbackBind, isLoopbackHost, sessionCookieName, StudioAccess as Access, type StudioAccessOptions } from '../../../src/studio/index.js';

const request = (headers: Record<string, string>, secure = false) => ({ headers, secure }) as unknown as IncomingMessage;
const host = '127.0.0.1:3000';
const withCookie = (id: string, extra: Record<string, string> = {}) => request({ host, cookie: `other=1; mergeshot_studio_3000=${id}`, ...extra });
const base: StudioAccessOptions = { apiKeys: [], idleMs: 60_000, maxMs: 600_000, loginLinkMs: 900_000, loopbackBind: true, trustProxy: false };
const password = { kind: 'password' } as const;

/** Each StudioAccess made here is closed after its test (it owns a sweep timer). */
const made: Access[] = [];
afterEach(() => {
  for (const access of made.splice(0)) access.close();
});
class StudioAccess extends Access {
  constructor(options: StudioAccessOptions) {
    super(options);
    made.push(this);
  }
}

describe('StudioAccess', () => {
  it('finds a session by its cookie and checks its CSRF token in constant time', () => {
    const access = new StudioAccess({ ...base, password: 'a studio password' });
    const session = access.create(password);
    expect(access.session(withCookie(session.id))).toBe(session);
    expect(access.session(withCookie('forged'))).toBeUndefined();
    expect(access.session(request({ host }))).toBeUndefined();
    // The cookie of another port (another app, another mergeshot on this host) is not this studio's.
    expect(access.session(request({ host: '127.0.0.1:3001', cookie: `mergeshot_studio_3000=${session.id}` }))).toBeUndefined();
    expect(access.checkCsrf(request({ 'x-csrf-token': session.csrf }), session)).toBe(true);
    expect(access.checkCsrf(request({ 'x-csrf-token': `${session.csrf}x` }), session)).toBe(false);
    expect(access.checkCsrf(request({}), session)).toBe(false);
  });

  it('ends a session idle longer than idleMs, and keeps one in use, aborting its signal at the end', () => {
    let now = 1_000_000;
    const access = new StudioAccess({ ...base, idleMs: 1_000, now: () => now });
    const session = access.create(password);
    now += 900;
    expect(access.session(withCookie(session.id))).toBe(session);
    now += 900; // 900 ms after its last use
    expect(access.session(withCookie(session.id))).toBe(session);
    expect(session.signal.aborted).toBe(false);
    now += 1_001;
    expect(access.session(withCookie(session.id))).toBeUndefined();
    expect(access.session(withCookie(session.id))).toBeUndefined();
    expect(session.signal.aborted).toBe(true);
  });

  it('ends a session maxMs after its login however much it is used', () => {
    let now = 1_000_000;
    const access = new StudioAccess({ ...base, idleMs: 1_000, maxMs: 3_000, now: () => now });
    const session = access.create(password);
    for (let step = 0; step < 5; step += 1) {
      now += 500;
      expect(access.session(withCookie(session.id))).toBe(session);
    }
    now += 500; // 3 000 ms after the login, 500 ms after the last use
    expect(access.session(withCookie(session.id))).toBeUndefined();
    expect(session.signal.aborted).toBe(true);
  });

  it('keeps at most maxSessions, dropping the least recently used', () => {
    const access = new StudioAccess({ ...base, maxSessions: 2 });
    const [a, b] = [access.create(password), access.create(password)];
    access.session(withCookie(a.id)); // a is now the most recently used
    const c = access.create(password);
    expect(access.session(withCookie(b.id))).toBeUndefined();
    expect(b.signal.aborted).toBe(true);
    expect(access.session(withCookie(a.id))).toBe(a);
    expect(access.session(withCookie(c.id))).toBe(c);
  });

  it('logs in from a form with the password or an API key, saying which', () => {
    const access = new StudioAccess({ ...base, password: 'a studio password', apiKeys: ['first api key of 16+ chars', 'second api key of 16+ chars'] });
    expect(access.loginToken).toBeUndefined();
    expect(access.verifySecret('a studio password')).toEqual({ kind: 'password' });
    expect(access.verifySecret('second api key of 16+ chars')).toEqual({ kind: 'apiKey', apiKeyIndex: 1 });
    expect(access.verifySecret('a studio passwore')).toBeUndefined();
    // A URL carries the one-time token only: the password and keys are refused there.
    expect(access.redeemToken('a studio password')).toBeUndefined();
    expect(access.redeemToken('first api key of 16+ chars')).toBeUndefined();
  });

  it('issues a one-time token without a password: it logs in once, within loginLinkMs', () => {
    let now = 1_000_000;
    const firstRun = new StudioAccess({ ...base, apiKeys: ['an api key of 16+ chars'], now: () => now });
    const token = firstRun.loginToken!;
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(firstRun.redeemToken(token)).toEqual({ kind: 'token' });
    expect(firstRun.loginToken).toBeUndefined();
    expect(firstRun.redeemToken(token)).toBeUndefined();
    expect(firstRun.verifySecret(token)).toBeUndefined();

    const late = new StudioAccess({ ...base, loginLinkMs: 900_000, now: () => now });
    const lateToken = late.loginToken!;
    now += 900_001;
    expect(late.redeemToken(lateToken)).toBeUndefined();
    expect(late.loginToken).toBeUndefined();
    const lateAgain = new StudioAccess({ ...base, loginLinkMs: 900_000, now: () => now });
    const lateAgainToken = lateAgain.loginToken!;
    now += 900_001;
    expect(lateAgain.loginToken).toBeUndefined();
    expect(lateAgain.redeemToken(lateAgainToken)).toBeUndefined();
  });

  it('writes HttpOnly SameSite=Strict cookies named for the port, __Host- and Secure over HTTPS, and a clearing cookie', () => {
    const access = new StudioAccess({ ...base, maxMs: 3_600_000 });
    const session = access.create(password);
    expect(access.cookie(request({ host }), session)).toBe(`mergeshot_studio_3000=${session.id}; Max-Age=3600; Path=/; HttpOnly; SameSite=Strict`);
    expect(access.cookie(request({ host: 'studio.example' }, true), session)).toBe(`__Host-mergeshot_studio=${session.id}; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Strict`);
    expect(access.cookie(request({ host }), undefined)).toBe('mergeshot_studio_3000=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict');
    // Over HTTPS only the __Host- cookie counts (a subdomain could set the other one).
    expect(access.session(request({ host: 'studio.example', cookie: `mergeshot_studio=${session.id}` }, true))).toBeUndefined();
    expect(access.session(request({ host: 'studio.example', cookie: `__Host-mergeshot_studio=${session.id}` }, true))).toBe(session);
  });

  it('names the cookie after the port in Host', () => {
    expect(sessionCookieName(request({ host: 'localhost:3000' }))).toBe('mergeshot_studio_3000');
    expect(sessionCookieName(request({ host: '[::1]:8080' }))).toBe('mergeshot_studio_8080');
    expect(sessionCookieName(request({ host: '[::1]' }))).toBe('mergeshot_studio');
    expect(sessionCookieName(request({ host: 'studio.example:8443' }, true))).toBe('__Host-mergeshot_studio_8443');
    expect(sessionCookieName(request({}))).toBe('mergeshot_studio');
  });

  it('refuses a foreign Host on a loopback bind, unless a declared proxy forwarded the request', () => {
    const loopback = new StudioAccess(base);
    expect(loopback.misdirected(request({ host }))).toBe(false);
    expect(loopback.misdirected(request({ host: 'rebind.example:3000' }))).toBe(true);
    // Forwarding headers without trustProxy do not make a foreign Host acceptable (a page can add them).
    expect(loopback.misdirected(request({ host: 'studio.example', 'x-forwarded-for': '203.0.113.7' }))).toBe(true);
    const proxied = new StudioAccess({ ...base, trustProxy: true });
    expect(proxied.misdirected(request({ host: 'studio.example', 'x-forwarded-for': '203.0.113.7' }))).toBe(false);
    expect(proxied.misdirected(request({ host: 'rebind.example' }))).toBe(true);
    expect(new StudioAccess({ ...base, loopbackBind: false }).misdirected(request({ host: 'studio.example' }))).toBe(false);
  });
});

describe('loopback names', () => {
  it('accepts only names of this machine in Host (a DNS-rebinding page names its own domain)', () => {
    for (const name of ['localhost', 'localhost:3000', '127.0.0.1:3000', '127.1.2.3', '[::1]:3000', 'studio.localhost:8080']) expect(isLoopbackHost(name), name).toBe(true);
    for (const name of ['evil.example:3000', '192.168.1.5:3000', 'localhost.evil.example', '127.0.0.1.nip.io', '', undefined]) expect(isLoopbackHost(name), String(name)).toBe(false);
  });

  it('tells a loopback bind from one the network reaches', () => {
    expect(isLoopbackBind('127.0.0.1')).toBe(true);
    expect(isLoopbackBind('::1')).toBe(true);
    expect(isLoopbackBind('localhost')).toBe(true);
    expect(isLoopbackBind('0.0.0.0')).toBe(false);
    expect(isLoopbackBind('::')).toBe(false);
    expect(isLoopbackBind('192.168.1.5')).toBe(false);
  });

  it('tells a forwarded request by any header a proxy adds', () => {
    for (const name of ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'via']) expect(isForwarded(request({ host, [name]: 'x' })), name).toBe(true);
    expect(isForwarded(request({ host }))).toBe(false);
  });
});
