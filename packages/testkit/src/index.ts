export * from './skip.js';
