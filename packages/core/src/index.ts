export * from './events.js';
export * from './bpe.js';
export * from './encoding.js';
export * from './catalog.js';
export * from './manifest.js';
export * from './privacy.js';
export * from './upload.js';
export * from './experiments/assignment.js';
