#!/usr/bin/env node
// Runs the TypeScript entry point through tsx so `npx mergeshot` works right after `npm ci`,
// with no build step to remember and no stale compiled copy to drift from src/.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
