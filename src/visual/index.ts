export { comparableImage, describeTolerance, toleranceOf, type VisualCheck, type VisualMask, type VisualTolerance } from './comparableImage.js';
export { compareWithGolden, type Comparison } from './compare.js';
export { changedInputs, goldenInputs, hashOf, readSidecar, recordHash, sidecarJson, sidecarOf, writeSidecar, type GoldenInputs, type GoldenSidecar } from './goldenSidecar.js';
export { fingerprintFile, fingerprintPathOf, goldenFiles, goldenFolder, goldenPaths, stylesDirOf } from './paths.js';
export { currentFingerprint, fingerprintJson, readFingerprint, rendererChange, writeFingerprint, type RendererFingerprint } from './rendererFingerprint.js';
export { imageKinds, VisualError, VisualReview, type AcceptResult, type CaseReview, type CaseStatus, type ImageKind, type RendererReview, type ReviewWarning, type TemplateReview, type VisualReviewOptions } from './review.js';
export { templateSuites, visualSuite, type TemplateCase, type TemplateSuite } from './templateCases.js';
