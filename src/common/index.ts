/**
 * Shared, domain-free helpers (clock, ids, errors, logging, hosts, signed links, files): every module may import them,
 * through this file (STYLE.md §3).
 */
export * from './clock.js';
export * from './errors.js';
export * from './host.js';
export * from './ids.js';
export * from './log.js';
export * from './own-string.js';
export * from './package-root.js';
export * from './private-address.js';
export * from './process-guard.js';
export * from './signed-link.js';
export * from './template.js';
export * from './voicemail-files.js';
export * from './wav-file.js';
