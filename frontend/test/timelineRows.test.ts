import { describe, expect, it } from 'vitest';
import {
  changesOf,
  dedupeChanges,
  describeChange,
  memberMove,
  SAME_CHANGE_MS,
  statusChanges,
  type Change,
} from '../src/lib/timelineRows';
import type { MemberState, MeshEvent, NodeStatus, StatusMember } from '../src/lib/types';
import { slink, status } from './fixtures';

const mem = (node_id: string, state: MemberState): StatusMember => ({ node_id, state, last_seen_ms: 1, direct: true });
let seq = 0;
const stEv = (origin: string, time_ms: number, body: NodeStatus): MeshEvent => ({
  origin, incarnation: 1, seq: ++seq, kind: 'status', time_ms, received_ms: time_ms, body,
});
const brief = (cs: Change[]) => cs.map((c) => `${c.origin}:${c.what}:${c.subject}`);

describe('memberMove', () => {
  it('names joins, leaves, downs and returns, and nothing for suspect', () => {
    expect(memberMove(undefined, 'alive')).toBe('joined');
    expect(memberMove('unknown', 'alive')).toBe('joined');
    expect(memberMove('left', 'alive')).toBe('joined');
    expect(memberMove('alive', 'left')).toBe('left');
    expect(memberMove('alive', 'dead')).toBe('down');
    expect(memberMove('suspect', 'dead')).toBe('down');
    expect(memberMove('dead', 'alive')).toBe('back');
    expect(memberMove('alive', 'suspect')).toBeNull();
    expect(memberMove('suspect', 'alive')).toBeNull();
    expect(memberMove('alive', 'alive')).toBeNull();
    expect(memberMove('left', 'dead')).toBeNull();
  });
});

describe('statusChanges', () => {
  it('makes no row for an unchanged status (cpu and mem may move)', () => {
    const a = status({ links: [slink('b')], members: [mem('b', 'alive')] });
    const b = status({ cpu_percent: 99, mem_used_bytes: 1, links: [slink('b', 'up', 9)], members: [mem('b', 'alive')] });
    expect(statusChanges('a', a, b, 2000)).toEqual([]);
    expect(changesOf([stEv('a', 1000, a), stEv('a', 2000, b), stEv('a', 3000, b)])).toEqual([]);
  });

  it('sees a join in members and the new link', () => {
    const before = status({ links: [slink('b')], members: [mem('b', 'alive')] });
    const after = status({ links: [slink('b'), slink('c')], members: [mem('b', 'alive'), mem('c', 'alive')] });
    const cs = statusChanges('a', before, after, 5000);
    expect(brief(cs)).toEqual(['a:joined:c', 'a:link-up:c']);
    expect(cs[0]).toMatchObject({ kind: 'node', time_ms: 5000 });
    expect(cs[1]).toMatchObject({ kind: 'link' });
    expect(describeChange(cs[0])).toBe('c joined (seen by a)');
    expect(describeChange(cs[1])).toBe('link a ↔ c up');
  });

  it('sees a leave, a node going down and coming back', () => {
    const s = (b: MemberState, c: MemberState) => status({ members: [mem('b', b), mem('c', c)] });
    const evs = [stEv('a', 1, s('alive', 'alive')), stEv('a', 2, s('left', 'suspect')), stEv('a', 3, s('left', 'dead')), stEv('a', 4, s('left', 'alive'))];
    expect(brief(changesOf(evs))).toEqual(['a:left:b', 'a:down:c', 'a:back:c']);
  });

  it('sees through suspect: a new peer (none→suspect→alive) and a rejoin (left→suspect→alive) are joins', () => {
    const s = (...ms: StatusMember[]) => status({ members: ms });
    const evs = [
      stEv('a', 1, s(mem('b', 'alive'))),
      stEv('a', 2, s(mem('b', 'alive'), mem('c', 'suspect'))),
      stEv('a', 3, s(mem('b', 'alive'), mem('c', 'alive'))),
      stEv('a', 4, s(mem('b', 'left'), mem('c', 'alive'))),
      stEv('a', 5, s(mem('b', 'suspect'), mem('c', 'suspect'))),
      stEv('a', 6, s(mem('b', 'alive'), mem('c', 'alive'))),
    ];
    expect(brief(changesOf(evs))).toEqual(['a:joined:c', 'a:left:b', 'a:joined:b']);
  });

  it('a member suspect at the start and then alive is no join (it was a member all along)', () => {
    const s = (...ms: StatusMember[]) => status({ members: ms });
    const evs = [stEv('a', 1, s(mem('b', 'suspect'), mem('c', 'alive'))), stEv('a', 2, s(mem('b', 'alive'), mem('c', 'alive')))];
    expect(brief(changesOf(evs))).toEqual([]);
    // and then going dead is still news
    expect(brief(changesOf([...evs, stEv('a', 3, s(mem('b', 'dead'), mem('c', 'alive')))]))).toEqual(['a:down:b']);
  });

  it('a member gone from the list and back alive is a join; suspect then dead is down', () => {
    const s = (...ms: StatusMember[]) => status({ members: ms });
    const evs = [stEv('a', 1, s(mem('b', 'alive'))), stEv('a', 2, s()), stEv('a', 3, s(mem('b', 'suspect'))), stEv('a', 4, s(mem('b', 'alive'))), stEv('a', 5, s(mem('b', 'suspect'))), stEv('a', 6, s(mem('b', 'dead')))];
    expect(brief(changesOf(evs))).toEqual(['a:joined:b', 'a:down:b']);
  });

  it('sees a link go down and up, and a link dropped from the list as down', () => {
    const evs = [
      stEv('a', 1, status({ links: [slink('b'), slink('c')] })),
      stEv('a', 2, status({ links: [slink('b', 'down'), slink('c')] })),
      stEv('a', 3, status({ links: [slink('b', 'connecting'), slink('c')] })),
      stEv('a', 4, status({ links: [slink('b')] })),
    ];
    expect(brief(changesOf(evs))).toEqual(['a:link-down:b', 'a:link-up:b', 'a:link-down:c']);
  });

  it('sees a freeze and an unfreeze of the status\'s own node', () => {
    const evs = [stEv('b', 1, status()), stEv('b', 2, status({ frozen: true })), stEv('b', 3, status({ frozen: true })), stEv('b', 4, status())];
    const cs = changesOf(evs);
    expect(brief(cs)).toEqual(['b:frozen:b', 'b:unfrozen:b']);
    expect(cs.map((c) => c.kind)).toEqual(['freeze', 'freeze']);
    expect(describeChange(cs[0])).toBe('b frozen');
  });

  it('compares members only when both statuses carry them (the /ws feed leaves them out)', () => {
    const withM = status({ members: [mem('b', 'alive')] });
    const without = status({ members: undefined });
    expect(statusChanges('a', withM, without, 2)).toEqual([]);
    expect(statusChanges('a', without, withM, 3)).toEqual([]);
  });

  it('compares each origin with its own previous status, in time order', () => {
    const evs = [
      stEv('b', 20, status({ frozen: true })),
      stEv('a', 15, status({ frozen: true })),
      stEv('a', 5, status()),
      stEv('b', 10, status()),
    ];
    expect(changesOf(evs).map((c) => [c.time_ms, c.what, c.subject])).toEqual([[15, 'frozen', 'a'], [20, 'frozen', 'b']]);
  });
});

describe('dedupeChanges', () => {
  const join = (origin: string, t: number) => statusChanges(origin, status({ members: [] }), status({ members: [mem('d', 'alive')] }), t)[0];
  const link = (origin: string, peer: string, t: number, up: boolean) =>
    statusChanges(origin, status({ links: up ? [] : [slink(peer)] }), status({ links: up ? [slink(peer)] : [] }), t)[0];

  it('keeps one row for a join every member saw', () => {
    const out = dedupeChanges([join('b', 1200), join('a', 1000), join('c', 1100)]);
    expect(brief(out)).toEqual(['a:joined:d']);
  });

  it('keeps one row for a link both ends saw, but a flap keeps every step', () => {
    expect(brief(dedupeChanges([link('a', 'b', 1, true), link('b', 'a', 2, true)]))).toEqual(['a:link-up:b']);
    const flap = [link('a', 'b', 1, true), link('b', 'a', 2, true), link('a', 'b', 3, false), link('b', 'a', 4, false), link('a', 'b', 5, true)];
    expect(brief(dedupeChanges(flap))).toEqual(['a:link-up:b', 'a:link-down:b', 'a:link-up:b']);
  });

  it('a second join long after the first is news; the same report twice is not', () => {
    const j = join('a', 1000);
    expect(dedupeChanges([j, j])).toHaveLength(1);
    expect(dedupeChanges([j, join('b', 1000 + SAME_CHANGE_MS + 1)])).toHaveLength(2);
  });
});
