/**
 * The one place the controller reads the NodePortLocal contract from @npl/core: the annotation codec
 * and its types, nothing else (the controller never depends on the agent's internals).
 */
export { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY, parseNplAnnotation, isCompleteNplEntry } from '@npl/core/annotation';
export type { CompleteNplEntry, ParsedNplEntry } from '@npl/core/annotation';
