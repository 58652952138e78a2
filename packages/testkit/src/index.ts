export * from './skip.js';
export { shippedTestCode } from './dist-check.js';
export type { ShippedTestCode } from './dist-check.js';
