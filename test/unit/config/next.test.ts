import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../src/config/loader.js';
import { findNode, resolveNext } from '../../../src/config/next.js';
import type { FlowNode, PbxConfig } from '../../../src/config/types.js';

const demo: PbxConfig = loadConfigFile(join(import.meta.dirname, '../../../config/default.yaml'), { apiKeyOverride: null });
const flow = (id: string) => demo.flows.find((f) => f.id === id)!;

describe('resolveNext', () => {
  it('follows a string next for any outcome', () => {
    const ring = findNode(flow('alice-direct'), 'ring-alice')!;
    expect(resolveNext(demo, ring, 'no-answer')).toBe('alice-voicemail');
    expect(resolveNext(demo, ring, 'busy')).toBe('alice-voicemail');
  });

  it('hangs up (null) after a node with no next', () => {
    expect(resolveNext(demo, findNode(flow('alice-direct'), 'alice-voicemail')!, 'failed')).toBeNull();
  });

  it('falls back to the queue\'s and the ring group\'s next', () => {
    expect(resolveNext(demo, findNode(flow('new-lead'), 'support-queue')!, 'timeout')).toBe('bob-voicemail');
    expect(resolveNext(demo, findNode(flow('sales'), 'sales-group')!, 'no-answer')).toBe('hangup');
  });

  it('uses the outcome key of a map, then default, and the node before its group', () => {
    const node: FlowNode = { id: 'q', type: 'queue', queue: 'Support', next: { full: 'busy-msg', default: 'other' } };
    expect(resolveNext(demo, node, 'full')).toBe('busy-msg');
    expect(resolveNext(demo, node, 'timeout')).toBe('other');
    const partial: FlowNode = { id: 'q', type: 'queue', queue: 'Support', next: { full: 'busy-msg' } };
    expect(resolveNext(demo, partial, 'timeout')).toBe('bob-voicemail');
  });
});
