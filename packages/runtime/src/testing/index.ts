export * from './fake-list-watch.js';
