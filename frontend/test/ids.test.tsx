import { render, screen, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { eventKey, idText, sameId } from '../src/lib/id';
import { setToken } from '../src/lib/token';
import type { MeshEvent } from '../src/lib/types';
import { BinaryPayload, summarize, Timeline } from '../src/pages/Timeline';
import { cluster, hello, snapshot } from './fixtures';
import { renderWith, storeWith } from './render';

const BYTES = [0xff, 0x00, 0xfe, 0x61, 0x80];
const B64 = '/wD+YYA=';
const HUGE = '9223372036854775813'; // 2^63 + 5: a double reads 9223372036854775808
const PAST_SAFE = '9007199254740993'; // 2^53 + 1: a double reads 2^53

function binary(seq: MeshEvent['seq'], incarnation: MeshEvent['incarnation'] = 3): MeshEvent {
  return {
    origin: 'a', incarnation, seq, kind: 'user', time_ms: 1000, received_ms: 1000,
    body: { name: 'blob', payload: null, payload_b64: B64, payload_bytes: BYTES.length },
  };
}

beforeEach(() => setToken('tok-r'));

describe('binary user payloads', () => {
  it('are summarised as binary with their size, text payloads as text', () => {
    expect(summarize(binary(1))).toBe('blob: binary, 5 bytes');
    const text: MeshEvent = { ...binary(2), body: { name: 'deploy', payload: 'v2', payload_bytes: 2 } };
    expect(summarize(text)).toBe('deploy: v2');
  });

  it('offer their bytes in base64, which decode to what was sent', () => {
    render(<BinaryPayload e={binary(1)} />);
    const link = screen.getByTestId('payload-b64');
    expect(link.dataset.b64).toBe(B64);
    expect(link.getAttribute('title')).toBe(B64);
    expect(link.getAttribute('href')).toBe(`data:application/octet-stream;base64,${B64}`);
    const decoded = Array.from(atob(link.dataset.b64 ?? ''), (c) => c.charCodeAt(0));
    expect(decoded).toEqual(BYTES);
  });

  it('offer no base64 for text, nor for an event summarised out of a snapshot', () => {
    const text: MeshEvent = { ...binary(2), body: { name: 'deploy', payload: 'v2', payload_bytes: 2 } };
    const { container } = render(<><BinaryPayload e={text} /><BinaryPayload e={{ ...binary(3), body: null, summarized: true }} /></>);
    expect(container.querySelector('[data-testid="payload-b64"]')).toBeNull();
  });

  it('show on the timeline as "binary, N bytes" with the base64 at hand', () => {
    const store = storeWith(hello('read'), snapshot(cluster(['a']), { events: [binary(HUGE, PAST_SAFE)] }));
    renderWith(store, <Timeline />);
    const row = screen.getByTestId('timeline-event');
    expect(row).toHaveTextContent('blob: binary, 5 bytes');
    expect(row.dataset.seq).toBe(HUGE);
    expect(row.dataset.event).toBe(`a/${PAST_SAFE}/${HUGE}`);
    expect(within(row).getByTestId('payload-b64').dataset.b64).toBe(B64);
  });
});

describe('64-bit ids', () => {
  it('keep a string id exactly, and a number as it is', () => {
    expect(idText(HUGE)).toBe(HUGE);
    expect(idText(42)).toBe('42');
    expect(idText(9007199254740991)).toBe('9007199254740991');
    // what parsing the string as a number would have lost
    expect(String(Number(HUGE))).not.toBe(HUGE);
  });

  it('compare the same whichever form they came in', () => {
    expect(sameId(7, '7')).toBe(true);
    expect(sameId(PAST_SAFE, '9007199254740992')).toBe(false); // equal as doubles
    expect(sameId(undefined, undefined)).toBe(true);
    expect(sameId(1, undefined)).toBe(false);
  });

  it('name an event by origin, incarnation and seq as its URL does', () => {
    expect(eventKey(binary(HUGE, PAST_SAFE))).toBe(`a/${PAST_SAFE}/${HUGE}`);
    expect(eventKey(binary(8))).toBe('a/3/8');
  });
});
