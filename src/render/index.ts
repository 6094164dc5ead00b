export { BrowserSupervisor, type BrowserSupervisorOptions, type BrowserStats } from './supervisor.js';
export { resolveExecutable, unpackBundledChromium, chromiumArgs, screenOrigin, type ExecutableChoice } from './browser.js';
export { PagePool, pageOrigin, type PagePoolOptions, type PooledPage, type RequestHandler } from './pagePool.js';
export { renderPage, type PageRenderRequest, type PageCapture } from './renderPage.js';
export type { FieldOverflow, FittedText, SettleReport } from './fit.js';
export { GlyphCoverage, formatCodePoints, type GlyphCoverageOptions, type PageFontFace, type FontLoader } from './glyphCoverage.js';
export { systemFontFiles } from './systemFonts.js';
export type { InspectedFit, InspectedText, PageInspection, PageMeasurement, TransparentLayer } from './inspect.js';
