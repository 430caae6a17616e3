import { describe, expect, it } from 'vitest';
import { formShapes } from '../../../../src/api/console/forms.js';
import { PBX_SCHEMA } from '../../../../src/config/index.js';

describe('console form shapes', () => {
  const shapes = formShapes();

  it('serves the item shape of every section the console edits, as plain JSON', () => {
    expect(Object.keys(shapes).sort()).toEqual(['flows', 'numbers', 'queues', 'ring-groups', 'trunks', 'users']);
    expect(JSON.parse(JSON.stringify(shapes))).toEqual(shapes);
  });

  it('keeps each key\'s kind, doc, bounds, choices and default from the schema table', () => {
    const queue = shapes['queues']!;
    expect(queue.kind).toBe('object');
    if (queue.kind !== 'object') return;
    expect(Object.keys(queue.fields)).toEqual(Object.keys((PBX_SCHEMA.fields['queues'] as { item: { fields: object } }).item.fields));
    expect(queue.fields['agent_timeout_s']).toMatchObject({ kind: 'int', min: 1, default: 15 });
    expect(queue.fields['strategy']).toMatchObject({ kind: 'string', oneOf: expect.arrayContaining(['ringall', 'linear']), default: 'ringall' });
    expect(queue.fields['agents']).toMatchObject({ kind: 'list', item: { kind: 'string', digits: true } });
    expect(queue.fields['next']).toMatchObject({ kind: 'next', keys: expect.arrayContaining(['busy', 'timeout']) });
  });

  it('marks secrets and names format checks instead of sending functions', () => {
    const trunk = shapes['trunks']!;
    if (trunk.kind !== 'object') throw new Error('trunk is not an object shape');
    expect(trunk.fields['password']).toMatchObject({ kind: 'string', secret: true, nullable: true });
    expect(trunk.fields['host']).toMatchObject({ kind: 'string', format: 'checkHost' });
  });

  it('gives flow nodes one variant per type, the play node included', () => {
    const flow = shapes['flows']!;
    if (flow.kind !== 'object') throw new Error('flow is not an object shape');
    const nodes = flow.fields['nodes']!;
    if (nodes.kind !== 'list' || nodes.item.kind !== 'union') throw new Error('nodes is not a list of a union');
    expect(Object.keys(nodes.item.variants).sort()).toEqual(['hangup', 'play', 'queue', 'ring_group', 'user', 'voicemail', 'webhook']);
    expect(Object.keys(nodes.item.variants['play']!)).toEqual(['id', 'next', 'file']);
    expect(nodes.item.variants['voicemail']!['user']).toMatchObject({ kind: 'string', digits: true });
  });
});
