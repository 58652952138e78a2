/**
 * `@npl/core/annotation`: the wire contract between npl-agent and whoever reads its annotations
 * (npl-controller, F5 CIS, VMware AKO): the two annotation keys, the entry format and its codec, and
 * the error the codec throws. Nothing else of @npl/core is part of it; npl-controller may import only
 * this entry point (an ESLint rule enforces it, see eslint.config.js).
 */
export {
  NPL_ANNOTATION_KEY,
  NPL_ENABLED_ANNOTATION_KEY,
  parseNplAnnotation,
  formatNplAnnotation,
  isCompleteNplEntry,
  ipFamilyForAnnotation,
  annotationsEqual,
  annotationUpToDate,
} from './annotation.js';
export type { NplAnnotationEntry, NplAnnotationFields, IncompleteReason, CompleteNplEntry, IncompleteNplEntry, ParsedNplEntry } from './annotation.js';
export type { IPFamily, Protocol } from './types.js';
export { NplError, isNplError } from './errors.js';
export type { ErrorCode } from './errors.js';
