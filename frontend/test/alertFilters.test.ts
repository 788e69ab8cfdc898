import { describe, expect, it } from 'vitest';
import {
  NO_FILTER,
  alertFilterChoices,
  alertFilterQuery,
  alertStateCounts,
  filterAlerts,
  hashQuery,
  parseAlertFilter,
} from '../src/lib/alertFilters';
import { alert } from './fixtures';

const LIST = [
  alert('home-1', 'a1', { rule: 'disk_full', severity: 'critical', subject: '/', message: 'disk 97% full' }),
  alert('home-1', 'a2', { rule: 'cpu_high', state: 'acknowledged', acked_ms: 2000, acked_by: 'ann' }),
  alert('home-2', 'a3', { rule: 'disk_full', severity: 'critical', state: 'resolved', subject: '/srv', resolved_ms: 3000 }),
  alert('home-2', 'a4', { rule: 'cpu_high' }),
];
const ids = (l: { alert_id: string }[]) => l.map((a) => a.alert_id);

describe('alert filters in the hash', () => {
  it('reads what a link says, with or without the ?', () => {
    expect(parseAlertFilter('?state=firing&node=home-2&q=disk')).toEqual({ ...NO_FILTER, state: 'firing', node: 'home-2', q: 'disk' });
    expect(parseAlertFilter('severity=critical&rule=disk_full')).toEqual({ ...NO_FILTER, severity: 'critical', rule: 'disk_full' });
    expect(parseAlertFilter('')).toEqual(NO_FILTER);
  });

  it('ignores a state that is not one and keys it does not know', () => {
    expect(parseAlertFilter('?state=burning&colour=red')).toEqual(NO_FILTER);
  });

  it('writes only what is set, and reads back the same filter', () => {
    expect(alertFilterQuery(NO_FILTER)).toBe('');
    const f = { ...NO_FILTER, state: 'resolved' as const, node: 'home 2', q: 'a&b=c' };
    const q = alertFilterQuery(f);
    expect(q).toBe('?state=resolved&node=home+2&q=a%26b%3Dc');
    expect(parseAlertFilter(q)).toEqual(f);
  });

  it('takes the query from a hash', () => {
    expect(hashQuery('#/alerts?state=firing')).toBe('?state=firing');
    expect(hashQuery('#/alerts/home-1/a1?q=x')).toBe('?q=x');
    expect(hashQuery('#/alerts')).toBe('');
  });
});

describe('filterAlerts', () => {
  it('keeps every alert with no filter', () => {
    expect(ids(filterAlerts(LIST, NO_FILTER))).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('filters by state, severity, node and rule together', () => {
    expect(ids(filterAlerts(LIST, { ...NO_FILTER, state: 'firing' }))).toEqual(['a1', 'a4']);
    expect(ids(filterAlerts(LIST, { ...NO_FILTER, severity: 'critical' }))).toEqual(['a1', 'a3']);
    expect(ids(filterAlerts(LIST, { ...NO_FILTER, node: 'home-2', rule: 'cpu_high' }))).toEqual(['a4']);
    expect(ids(filterAlerts(LIST, { ...NO_FILTER, state: 'acknowledged', node: 'home-2' }))).toEqual([]);
  });

  it('searches rule, subject, message, node and id, in any case', () => {
    expect(ids(filterAlerts(LIST, { ...NO_FILTER, q: 'DISK' }))).toEqual(['a1', 'a3']);
    expect(ids(filterAlerts(LIST, { ...NO_FILTER, q: '/srv' }))).toEqual(['a3']);
    expect(ids(filterAlerts(LIST, { ...NO_FILTER, q: '97%' }))).toEqual(['a1']);
    expect(ids(filterAlerts(LIST, { ...NO_FILTER, q: ' a4 ' }))).toEqual(['a4']);
    expect(ids(filterAlerts(LIST, { ...NO_FILTER, q: 'home-2', state: 'firing' }))).toEqual(['a4']);
  });
});

describe('alertStateCounts', () => {
  it('counts what each state tab would list under the other filters', () => {
    expect(alertStateCounts(LIST, NO_FILTER)).toEqual({ firing: 2, acknowledged: 1, resolved: 1, all: 4 });
    // the state filter itself does not change the counts: they are the tabs'
    expect(alertStateCounts(LIST, { ...NO_FILTER, state: 'firing' })).toEqual({ firing: 2, acknowledged: 1, resolved: 1, all: 4 });
    expect(alertStateCounts(LIST, { ...NO_FILTER, rule: 'disk_full' })).toEqual({ firing: 1, acknowledged: 0, resolved: 1, all: 2 });
  });
});

describe('alertFilterChoices', () => {
  it('lists the values the alerts have, sorted, once each', () => {
    expect(alertFilterChoices(LIST)).toEqual({
      severity: ['critical', 'warning'],
      node: ['home-1', 'home-2'],
      rule: ['cpu_high', 'disk_full'],
    });
  });
});
