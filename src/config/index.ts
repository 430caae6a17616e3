/**
 * Configuration: the model (types), its schema and validation, loading from the environment and YAML, and the
 * numbered versions the engine runs on. Only `main.ts` loads configuration; other modules import types.
 */
export * from './types.js';
export { ConfigError, formatIssue, type ConfigIssue } from './errors.js';
export { validateConfig, defaultSipConfig, defaultMailConfig, defaultMediaSections, defaultVoicemailConfig, PBX_SCHEMA, QUEUE_STRATEGIES, RING_GROUP_STRATEGIES, NEXT_KEYS, type ValidationResult } from './schema.js';
export { loadSettings, loadConfigFile, loadConfigText, parseYaml, configWarnings, SETTINGS_DEFAULTS } from './loader.js';
export { createConfigVersions, type ConfigVersions, type ConfigVersionsDeps, type ConfigVersionStore, type StoredConfig, type AppliedListener, type ConfigControl, type ApplyResult } from './versions.js';
export { configDiff, deepFreeze } from './config-diff.js';
export { resolveNext, findNode } from './next.js';
export { checkMediaFiles, mediaFilePath, wavProblem } from './media-files.js';
export { configKeyRows, renderConfigurationDoc, type ConfigKeyRow } from './doc-table.js';
export type { Shape, ObjectShape, StringShape, IntShape, BoolShape, ListShape, MapShape, UnionShape, NextShape } from './shape.js';
