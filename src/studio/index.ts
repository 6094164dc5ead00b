export { StudioAccess, isForwarded, isLoopbackBind, isLoopbackHost, sessionCookieName, type StudioAccessOptions, type StudioPrincipal, type StudioSession, type StudioSessions } from './access.js';
export { studioRouter, type StudioRouterOptions } from './router.js';
export { FailureThrottle, type FailureThrottleOptions } from './throttle.js';
