/**
 * Errors of the configuration module (STYLE.md §7). Validation problems are collected as {@link ConfigIssue}
 * values; the loader throws them all at once as one {@link ConfigError}.
 */
import { SwitchboardError } from '../common/index.js';

/** One validation problem: where it is (`users[1].devices[0].password`) and what is wrong. */
export interface ConfigIssue {
  /** The file (or `staged`, `env`) the value came from. */
  file: string;
  /** Dotted/indexed path of the key, e.g. `users[1].devices[0].password`; empty for the document root. */
  path: string;
  message: string;
}

/** Renders an issue as `<file>: <path>: <problem>`. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.path === '' ? `${issue.file}: ${issue.message}` : `${issue.file}: ${issue.path}: ${issue.message}`;
}

/** The configuration (file or environment) is invalid; `issues` holds every problem found, not just the first. */
export class ConfigError extends SwitchboardError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const lines = issues.map(formatIssue);
    const head = issues.length === 1 ? 'Invalid configuration' : `Invalid configuration (${issues.length} problems)`;
    super('SB_ERR_CONFIG_KEY', `${head}:\n${lines.map((l) => `  ${l}`).join('\n')}`, options);
    this.issues = Object.freeze([...issues]);
  }
}
