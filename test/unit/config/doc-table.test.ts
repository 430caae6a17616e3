import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configKeyRows, renderConfigurationDoc } from '../../../src/config/doc-table.js';

const DOC = join(import.meta.dirname, '../../../docs/configuration.md');

describe('docs/configuration.md', () => {
  it('documents every key with a type, a default and a description', () => {
    const rows = configKeyRows();
    expect(rows.map((r) => r.key)).toContain('users[].devices[].password');
    expect(rows.map((r) => r.key)).toContain('flows[].nodes[] (type: webhook).secret_token');
    expect(rows.find((r) => r.key === 'delivery.retry_schedule_s')?.default).toBe('`[5,30,120,600,1800,3600]`');
    for (const r of rows) expect(r.doc, r.key).not.toBe('');
  });

  it('is up to date with the schema', () => {
    const text = renderConfigurationDoc();
    if (process.env['SB_UPDATE_DOCS'] === '1') writeFileSync(DOC, text);
    expect(readFileSync(DOC, 'utf8')).toBe(text);
  });
});
