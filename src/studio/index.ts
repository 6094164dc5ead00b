export { StudioAccess, isLoopbackBind, isLoopbackHost, sessionCookie, type StudioAccessOptions, type StudioSession, type StudioSessions } from './access.js';
export { studioRouter, type StudioRouterOptions } from './router.js';
