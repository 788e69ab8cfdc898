import { describe, expect, it } from 'vitest';
import type { MeshEvent } from '../src/lib/types';
import { summarize } from '../src/pages/Timeline';

describe('summarize', () => {
  it('names the size and URL of an event a snapshot summarised', () => {
    const e: MeshEvent = {
      origin: 'node-1', incarnation: 3, seq: 7, kind: 'user', time_ms: 1, received_ms: 2,
      body: null, summarized: true, body_bytes: 65600, url: '/api/events/node-1/3/7',
    };
    expect(summarize(e)).toBe('(65600 bytes, not in the snapshot: /api/events/node-1/3/7)');
  });

  it('still shows a user event whole', () => {
    const e: MeshEvent = {
      origin: 'node-1', incarnation: 3, seq: 8, kind: 'user', time_ms: 1, received_ms: 2,
      body: { name: 'deploy', payload: 'v2' },
    };
    expect(summarize(e)).toBe('deploy: v2');
  });
});
