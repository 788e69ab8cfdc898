import { describe, expect, it } from 'vitest';
import { alertStory, describeMatchers, describeNotice, silenceMatches } from '../src/lib/alertStory';
import type { AuditRecord, MeshEvent, NoticeRecord } from '../src/lib/types';
import { alert } from './fixtures';

const A = alert('home-2', 'a7', { rule: 'disk_full', fired_ms: 1000, state: 'resolved', acked_ms: 2000, acked_by: 'ann', resolved_ms: 9000 });

let seq = 0;
function ev(body: Record<string, unknown>, time_ms: number, origin = 'home-2'): MeshEvent {
  return { origin, incarnation: 1, seq: ++seq, kind: 'alert', time_ms, received_ms: time_ms, body };
}
function rec(action: string, time_ms: number, details: Record<string, unknown>, actor = 'ann', result = 'ok'): AuditRecord {
  return { time_ms, node: 'home-2', action, actor, result, details };
}
const base = { node: 'home-2', alert_id: 'a7', rule: 'disk_full', value: 97, threshold: 90, message: 'disk 97% full' };
const EVENTS = [
  ev({ ...base, state: 'firing', fired_ms: 1000 }, 1000),
  ev({ ...base, state: 'acknowledged', fired_ms: 1000, acked_ms: 2000, acked_by: 'ann' }, 2000),
  ev({ ...base, state: 'resolved', fired_ms: 1000, acked_ms: 2000, resolved_ms: 9000 }, 9000),
];
const kinds = (s: { kind: string }[]) => s.map((e) => e.kind);

describe('alertStory', () => {
  it('tells fired, acknowledged (by whom) and resolved from the events', () => {
    const s = alertStory(A, EVENTS, []);
    expect(kinds(s)).toEqual(['fired', 'acknowledged', 'resolved']);
    expect(s[0].text).toBe('fired at 97 (threshold 90): disk 97% full');
    expect(s[1]).toMatchObject({ time_ms: 2000, text: 'acknowledged by ann', by: 'ann' });
    expect(s[2].time_ms).toBe(9000);
  });

  it("skips another alert's events, and another node's alert of the same id", () => {
    const other = [ev({ ...base, alert_id: 'a8', state: 'firing', fired_ms: 500 }, 500), ev({ ...base, node: 'home-3', state: 'firing', fired_ms: 600 }, 600, 'home-3')];
    const s = alertStory({ ...A, acked_ms: null, resolved_ms: null, state: 'firing' }, [...other, EVENTS[0]], []);
    expect(s).toHaveLength(1);
    expect(s[0].time_ms).toBe(1000);
  });

  it('fills in from the alert itself what the node no longer keeps events of', () => {
    const s = alertStory(A, [], []);
    expect(kinds(s)).toEqual(['fired', 'acknowledged', 'resolved']);
    expect(s[1].text).toBe('acknowledged by ann');
  });

  it('adds the ack command and who issued it from the audit', () => {
    const audit = [
      rec('command.executed', 1990, { command_id: 'c-9', type: 'ack_alert', origin: 'home-1', args: { alert_id: 'a7' } }),
      rec('command.executed', 1995, { command_id: 'c-10', type: 'ack_alert', origin: 'home-1', args: { alert_id: 'a6' } }),
      rec('command.executed', 1996, { command_id: 'c-11', type: 'run_task', origin: 'home-1', args: { task: 'x' } }),
    ];
    const s = alertStory(A, EVENTS, audit);
    expect(kinds(s)).toEqual(['fired', 'ack_command', 'acknowledged', 'resolved']);
    expect(s[1]).toMatchObject({ text: 'ack_alert command c-9 from home-1: ok', by: 'ann' });
  });

  it('says when a silence held it and when that silence was removed', () => {
    const audit = [
      rec('silence.delete', 5000, { id: 'sil-1' }, 'bob'),
      rec('silence.add', 1500, { id: 'sil-1', matchers: { rule: 'disk_full', node: 'home-2' }, ends_ms: 99000, comment: 'disk swap' }, 'bob'),
      // another rule's, one that ended before the alert fired, one after it resolved
      rec('silence.add', 1600, { id: 'sil-2', matchers: { rule: 'cpu_high' }, ends_ms: 99000 }),
      rec('silence.add', 100, { id: 'sil-3', matchers: { node: 'home-2' }, ends_ms: 900 }),
      rec('silence.add', 9500, { id: 'sil-4', matchers: { node: 'home-2' }, ends_ms: 99000 }),
      rec('silence.delete', 9600, { id: 'sil-4' }),
      rec('silence.delete', 1700, { id: 'sil-2' }),
    ];
    const s = alertStory(A, EVENTS, audit);
    expect(kinds(s)).toEqual(['fired', 'silenced', 'acknowledged', 'unsilenced', 'resolved']);
    expect(s[1].text).toMatch(/^silenced by sil-1 \(rule=disk_full node=home-2\) until .*: disk swap$/);
    expect(s[1].by).toBe('bob');
    expect(s[3]).toMatchObject({ time_ms: 5000, text: 'silence sil-1 removed', by: 'bob' });
  });

  it("matches a silence's labels against the alert's node's labels", () => {
    const audit = [rec('silence.add', 1500, { id: 'sil-5', matchers: { labels: { site: 'cabin' } }, ends_ms: 99000 })];
    expect(kinds(alertStory(A, EVENTS, audit, { site: 'cabin' }))).toContain('silenced');
    expect(kinds(alertStory(A, EVENTS, audit, { site: 'town' }))).not.toContain('silenced');
  });
});

describe('notices in the story', () => {
  const n = (over: Partial<NoticeRecord>): NoticeRecord => ({ time_ms: 1100, alert_id: 'a7', notice: 'firing', channel: 'hook', outcome: 'delivered', attempts: 1, ...over });

  it("places each of this alert's notices in time, and only this alert's", () => {
    const notices = [
      n({ attempts: 3, time_ms: 4000 }),
      n({ channel: 'phone' }),
      n({ alert_id: 'a8' }),
      n({ notice: 'resolved', time_ms: 9100 }),
    ];
    const s = alertStory(A, EVENTS, [], {}, notices);
    expect(kinds(s)).toEqual(['fired', 'notice', 'acknowledged', 'notice', 'resolved', 'notice']);
    expect(s.filter((e) => e.kind === 'notice').map((e) => e.text)).toEqual([
      'firing notice delivered to phone',
      'firing notice delivered to hook (3 attempts)',
      'resolved notice delivered to hook',
    ]);
  });

  it('says why one did not arrive', () => {
    expect(describeNotice(n({ outcome: 'failed', attempts: 10, why: 'HTTP 500' }))).toBe('firing notice to hook given up after 10 attempts: HTTP 500');
    expect(describeNotice(n({ outcome: 'dropped', why: 'too many waiting' }))).toBe('firing notice to hook dropped (too many waiting)');
    expect(describeNotice(n({ outcome: 'silenced', notice: 'repeat', channel: undefined, attempts: 0, why: 'sil-3' }))).toBe('repeat notice held back by sil-3');
  });
});

describe('silences', () => {
  it('needs every matcher given to hold, and at least one', () => {
    const a = { rule: 'disk_full', node: 'home-2' };
    expect(silenceMatches({ rule: 'disk_full' }, a)).toBe(true);
    expect(silenceMatches({ rule: 'disk_full', node: 'home-1' }, a)).toBe(false);
    expect(silenceMatches({ labels: { role: 'db' } }, a, { role: 'db', site: 'x' })).toBe(true);
    expect(silenceMatches({}, a)).toBe(false);
  });

  it('names its matchers in one line', () => {
    expect(describeMatchers({ rule: 'r', node: 'n', labels: { a: 'b' } })).toBe('rule=r node=n a=b');
  });
});
