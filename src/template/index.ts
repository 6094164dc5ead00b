export { parseManifest, manifestSchema, fieldTypes, checkRuleIds, type CheckRuleId, type Manifest, type FieldSpec, type FieldSpecs, type FieldType } from './manifest.js';
export { TemplateRegistry, templateIdPattern, type LoadedTemplate, type TemplateFiles, type TemplateSize, type TemplateRegistryOptions } from './registry.js';
export { mergeDocument, type MergedDocument, type MergeOptions } from './merge.js';
export { helperNames } from './hbsHelpers.js';
export { imageCropRules, type ImageCropRule } from './manifest.js';
export { symbologies, type CodeSpec, type Symbology } from './codes.js';
export { templateSyntaxError, syntaxFacts, type SyntaxFacts } from './syntaxError.js';
