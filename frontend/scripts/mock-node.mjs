#!/usr/bin/env node
// A fake agentflow-node for developing and load-testing the dashboard
// without a mesh: serves dist/ at /, a few /api routes, and /ws (hello,
// snapshot, then status/task/log/alert/user events and cluster messages).
//
//   node scripts/mock-node.mjs [--port 8090] [--nodes 100] [--rate 1000] [--role write] [--token dev]
//
// Zero dependencies (RFC 6455 server framing by hand, text frames only).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const PORT = Number(arg('port', 8090));
const NODES = Number(arg('nodes', 100));
const RATE = Number(arg('rate', 1000)); // events per second (beyond status)
const ROLE = arg('role', 'write');
const TOKEN = arg('token', 'dev');
const DIST = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'dist');

const ids = Array.from({ length: NODES }, (_, i) => `node-${String(i).padStart(3, '0')}`);
const self = ids[0];
const relayed = new Set(ids.filter((_, i) => i > 0 && i % 7 === 0));
let frozen = false;
let seq = 0;
const now = () => Date.now();
const neighbours = (id) => {
  const i = ids.indexOf(id);
  return [1, 2, Math.floor(ids.length / 3)].map((d) => ids[(i + d) % ids.length]).concat([1, 2, Math.floor(ids.length / 3)].map((d) => ids[(i - d + ids.length) % ids.length])).filter((p) => p !== id);
};
const status = (id) => ({
  cpu_percent: 45 + 30 * Math.sin(now() / 20000 + ids.indexOf(id)) + Math.random() * 10,
  cpu_count: 4,
  mem_used_bytes: 3e9 + Math.random() * 1e9,
  mem_total_bytes: 8e9,
  load: [1, 0.8, 0.5],
  disk_used_bytes: 4e11,
  disk_total_bytes: 1e12,
  net_rx_bytes: 1e9,
  net_tx_bytes: 2e9,
  net_rx_bytes_per_s: Math.random() * 2e6,
  net_tx_bytes_per_s: Math.random() * 1e6,
  uptime_s: 86400 * 3,
  process_uptime_s: 3600,
  links: [...new Set(neighbours(id))].map((p) => ({ peer: p, state: 'up', rtt_ms: 0.5 + Math.random() * 3, since_ms: now() - 60000 })),
  members: [],
  frozen,
  signal_reachable: true,
});
const info = (id) => ({ node_id: id, incarnation: 1, version: '0.1.0-mock', addresses: ['127.0.0.1:1'], labels: { role: ids.indexOf(id) % 2 ? 'storage' : 'compute' }, started_ms: now() - 3600e3 });
const cluster = () => ({
  local: {
    node_id: self, incarnation: 1, version: '0.1.0-mock', addresses: ['127.0.0.1:50051'], labels: {}, started_ms: now() - 3600e3,
    signal: { reachable: true, signals: [] },
    links: neighbours(self).map((p) => ({ peer: p, state: 'up', member: 'alive', address: '', since_ms: now() - 6e4, reconnects: 0, last_error: '', incarnation: 1, direction: 'outbound', rtt_ms: 1.2, last_seen_ms: now() })),
    state: { node_id: self, status_ms: now(), updated_ms: now(), status: status(self), info: info(self) },
  },
  remote: ids.slice(1).map((id) => ({
    node_id: id, incarnation: 1, seq, status_ms: now(), updated_ms: now(), left: false, status: status(id), info: info(id),
    member: ids.indexOf(id) % 23 === 5 ? 'suspect' : 'alive', path: relayed.has(id) ? 'relayed' : 'direct', link: null,
  })),
});
const tasks = new Map();
const alerts = new Map();
const commands = [];
const event = (origin, kind, body) => ({ origin, incarnation: 1, seq: ++seq, kind, time_ms: now(), received_ms: now(), body });

function frame(text) {
  const data = Buffer.from(text);
  const n = data.length;
  const head = n < 126 ? Buffer.from([0x81, n]) : n < 65536 ? Buffer.from([0x81, 126, n >> 8, n & 255]) : Buffer.concat([Buffer.from([0x81, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; })()]);
  return Buffer.concat([head, data]);
}
const clients = new Set();
const publish = (msg) => { const f = frame(JSON.stringify(msg)); for (const c of clients) c.write(f); };

// Services: a few per node on the first nodes; the service command moves them.
const services = [];
ids.slice(0, 6).forEach((node, i) => {
  const row = (name, state, extra = {}) => ({ node, name, desired: 'running', state, pid: null, started_ms: null, restarts: 0, last_exit: null, next_attempt_ms: null, updated_ms: now(), reason: null, endpoints: [], task_id: null, version: 'a1b2c3', ...extra });
  services.push(row('web', i === 2 ? 'unhealthy' : 'healthy', { pid: 1000 + i, started_ms: now() - (i + 1) * 3_600_000, task_id: `svc-web-${i}`, endpoints: [{ name: 'http', protocol: 'http', port: 8000, tags: ['web'] }], reason: i === 2 ? 'check http failing: HTTP 503' : null }));
  if (i % 2 === 0) services.push(row('sync', i === 4 ? 'backing-off' : 'running', i === 4 ? { restarts: 3, last_exit: { code: 1, signal: 0 }, next_attempt_ms: now() + 8000, reason: 'exited with status 1' } : { pid: 2000 + i, started_ms: now() - 600_000, task_id: `svc-sync-${i}` }));
  if (i === 5) services.push(row('media', 'failed', { restarts: 5, last_exit: { code: 0, signal: 9 }, reason: 'restart budget spent: 5 restarts in 300 s' }));
});
services.sort((a, b) => (a.name === b.name ? (a.node < b.node ? -1 : 1) : a.name < b.name ? -1 : 1));
const serviceCommand = (node, args) => {
  const s = services.find((x) => x.node === node && x.name === args.name);
  if (!s) return { status: 'not_found', error: `no service named ${args.name} on this node` };
  const run = args.action !== 'stop';
  Object.assign(s, { desired: run ? 'running' : 'stopped', state: run ? 'running' : 'stopped', pid: run ? 3000 + seq++ : null, started_ms: run ? now() : null, next_attempt_ms: null, reason: null, updated_ms: now() });
  return { status: 'ok', body: { name: s.name, state: s.state } };
};

// Rollouts: one failed rollout of web to begin with; a new one moves a
// node every 1.5 s (max_parallel at a time), media's always fails.
const rollouts = [];
const rnode = (node, state, extra = {}) => ({ node, state, version: null, previous_version: 'a1b2c3', reason: null, started_ms: null, finished_ms: null, ...extra });
const webNodes = () => services.filter((x) => x.name === 'web').map((x) => x.node);
rollouts.push({
  id: 'ro-1', service: 'web', state: 'failed', reason: 'node-002 not healthy within 60 s', principal: 'token:write', created_ms: now() - 600_000, updated_ms: now() - 500_000, finished_ms: now() - 500_000,
  max_parallel: 1, deadline_s: 60, min_healthy_s: 5, definition: { command: ['/usr/bin/python3', '-m', 'http.server', '8000'], version: 'd4e5f6' },
  nodes: webNodes().map((n, i) => i < 2 ? rnode(n, 'healthy', { version: 'd4e5f6', started_ms: now() - 600_000 + i * 20_000, finished_ms: now() - 590_000 + i * 20_000 })
    : i === 2 ? rnode(n, 'rolled_back', { version: 'a1b2c3', reason: 'check http failing: HTTP 503 for 60 s; rolled back to a1b2c3', started_ms: now() - 560_000, finished_ms: now() - 500_000 })
    : rnode(n, 'untouched')),
});
const rolloutTargets = (b) => {
  const nodes = b.nodes ?? (b.target === 'all' || b.target === undefined ? null : typeof b.target === 'string' && !b.target.includes('=') ? [b.target] : null);
  return services.filter((x) => x.name === b.service && (!nodes || nodes.includes(x.node))).map((x) => x.node);
};
setInterval(() => {
  for (const r of rollouts) {
    if (r.state !== 'running') continue;
    const t = now();
    for (const n of r.nodes.filter((x) => x.state === 'updating')) {
      if (r.service === 'media') Object.assign(n, { state: 'rolled_back', version: n.previous_version, reason: 'exited with status 1 at start; rolled back', finished_ms: t });
      else Object.assign(n, { state: 'healthy', finished_ms: t });
    }
    if (r.nodes.some((x) => x.state === 'rolled_back')) {
      r.nodes.filter((x) => x.state === 'pending').forEach((x) => (x.state = 'untouched'));
      Object.assign(r, { state: 'failed', reason: `${r.nodes.find((x) => x.state === 'rolled_back').node} did not get healthy`, finished_ms: t, updated_ms: t });
      continue;
    }
    const next = r.nodes.filter((x) => x.state === 'pending').slice(0, r.max_parallel);
    next.forEach((x) => Object.assign(x, { state: 'updating', version: String(r.definition.version ?? 'new'), started_ms: t }));
    if (!next.length && r.nodes.every((x) => x.state === 'healthy')) Object.assign(r, { state: 'succeeded', finished_ms: t });
    r.updated_ms = t;
  }
}, 1500);
const rolloutRoute = (req, p, url, body, json) => {
  if (p === '/api/rollouts' && req.method === 'GET') {
    const svc = url.searchParams.get('service');
    return json(200, { rollouts: rollouts.filter((r) => !svc || r.service === svc).sort((a, b) => b.created_ms - a.created_ms) });
  }
  if (p === '/api/rollouts' && req.method === 'POST') {
    let b;
    try { b = JSON.parse(body); } catch { return json(400, { error: 'invalid', message: 'body is not JSON' }); }
    const errors = [];
    if (!b.definition || typeof b.definition !== 'object') errors.push({ path: 'definition', error: 'required: an object' });
    if (!Array.isArray(b.definition?.command)) errors.push({ path: 'definition.command', error: 'required: an array of strings' });
    if (errors.length) return json(400, { error: 'invalid', message: 'invalid rollout', errors });
    if (rollouts.some((r) => r.service === b.service && (r.state === 'running' || r.state === 'paused'))) return json(409, { error: 'conflict' });
    const nodes = rolloutTargets(b);
    if (!nodes.length) return json(400, { error: 'invalid', message: `no node of ${b.service} matches the target` });
    const t = now();
    const r = { id: `ro-${rollouts.length + 1}`, service: b.service, state: 'running', reason: null, principal: 'token:write', created_ms: t, updated_ms: t, finished_ms: null, max_parallel: b.max_parallel ?? 1, deadline_s: b.deadline_s ?? 60, min_healthy_s: b.min_healthy_s ?? 5, definition: b.definition, nodes: nodes.map((n) => rnode(n, 'pending', { previous_version: 'a1b2c3' })) };
    rollouts.push(r);
    return json(201, r);
  }
  const m = p.match(/^\/api\/rollouts\/([^/]+)(?:\/(pause|resume|abort))?$/);
  if (!m) return false;
  const r = rollouts.find((x) => x.id === decodeURIComponent(m[1]));
  if (!r) return json(404, { error: 'not_found', message: `no rollout ${m[1]}` });
  if (!m[2]) return json(200, r);
  const from = { pause: ['running'], resume: ['paused'], abort: ['running', 'paused'] }[m[2]];
  if (!from.includes(r.state)) return json(409, { error: 'conflict', message: `rollout ${r.id} is ${r.state}` });
  const t = now();
  if (m[2] === 'abort') {
    r.nodes.filter((x) => x.state === 'pending').forEach((x) => (x.state = 'untouched'));
    Object.assign(r, { state: 'aborted', reason: 'aborted by token:write', finished_ms: t });
  } else r.state = m[2] === 'pause' ? 'paused' : 'running';
  r.updated_ms = t;
  return json(200, r);
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const json = (code, body) => { res.writeHead(code, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
  if (url.pathname.startsWith('/api/')) {
    const tok = (req.headers.authorization ?? '').replace(/^Bearer /, '') || url.searchParams.get('token');
    if (tok !== TOKEN) return json(401, { error: 'unauthorized', message: 'a valid API token is required' });
    if (req.method === 'POST' && ROLE !== 'write') return json(403, { error: 'forbidden', message: 'the read token is read-only' });
    let body = '';
    for await (const c of req) body += c;
    const p = url.pathname;
    if (p === '/api/cluster/status') return json(200, cluster());
    if (p === '/api/definitions') return json(200, { node: self, tasks: [{ name: 'backup' }, { name: 'greet', allow_args: true }], alert_rules: [], frozen });
    if (p === '/api/audit') return json(200, { records: commands.map((c) => ({ time_ms: c.issued_ms, node: self, action: 'command.issued', actor: 'token:write', result: 'ok', details: { command_id: c.id, type: c.type } })) });
    if (p.endsWith('/logs')) return json(200, { lines: [] });
    if (p === '/api/events' && req.method === 'POST') { const b = JSON.parse(body); const e = event(self, 'user', { name: b.name, payload: String(b.payload ?? ''), payload_bytes: 1 }); publish({ type: 'event', event: e }); return json(200, { origin: self, incarnation: 1, seq: e.seq }); }
    if (p === '/api/commands' && req.method === 'POST') {
      const b = JSON.parse(body);
      if (frozen && (b.type === 'run_task' || b.type === 'ack_alert')) return json(423, { error: 'frozen', message: `${self} is frozen` });
      const dests = b.target === 'all' ? ids : typeof b.target === 'string' && b.target.includes('=') ? ids.filter((_, i) => i % 2) : [b.target];
      const rec = { id: `cmd-${commands.length + 1}`, origin: self, target: b.target, type: b.type, args: b.args ?? {}, principal: 'token:write', issued_ms: now(), timeout_ms: 30000, state: 'pending', destinations: dests, pending: [...dests], results: [] };
      commands.push(rec);
      if (b.type === 'freeze') frozen = true;
      if (b.type === 'unfreeze') frozen = false;
      dests.forEach((d, i) => setTimeout(() => {
        rec.pending = rec.pending.filter((x) => x !== d);
        let body = null;
        if (b.type === 'run_task') {
          const t = { node: d, task_id: `t${seq}`, name: b.args.task, state: 'running', attempt: 1, max_attempts: 1, exit_code: 0, term_signal: 0, reason: '', queued_ms: now(), started_ms: now(), finished_ms: null, next_retry_ms: null };
          tasks.set(`${d}/${t.task_id}`, t); publish({ type: 'event', event: event(d, 'task', t) }); body = { task_id: t.task_id, node: d };
        }
        if (b.type === 'ack_alert') { const a = alerts.get(`${d}/${b.args.alert_id}`); if (a) { a.state = 'acknowledged'; a.acked_ms = now(); a.acked_by = 'token:write'; publish({ type: 'event', event: event(d, 'alert', a) }); } }
        const r = b.type === 'service' ? serviceCommand(d, b.args) : { status: 'ok', body };
        rec.results.push({ node: d, ...r, path: [self, d], rtt_ms: 2 + i, finished_ms: now() });
        if (!rec.pending.length) rec.state = 'done';
        publish({ type: 'command', command: rec });
      }, 200 + i * 20));
      return json(202, rec);
    }
    if (p === '/api/tasks') return json(200, { tasks: [...tasks.values()] });
    if (p === '/api/services') return json(200, { services });
    if (p.startsWith('/api/services/')) {
      const name = decodeURIComponent(p.slice('/api/services/'.length));
      const inst = services.filter((x) => x.name === name);
      if (!inst.length) return json(404, { error: 'not_found', message: `no service named ${name} on any node` });
      const here = inst.find((x) => x.node === self);
      const check = { name: 'http', type: 'http', running: true, status: 'healthy', consecutive_successes: 4, consecutive_failures: 0, probes: 5, failures: 1, last: { ok: true, ms: 1.4, at_ms: now() - 3000, output: 'HTTP 200' }, history: [0, 1, 1, 1, 1].map((k, j) => ({ ok: !!k, ms: k ? 1.4 : 2000, at_ms: now() - (5 - j) * 10000, output: k ? 'HTTP 200' : 'connection refused' })) };
      return json(200, here ? { ...here, definition: { command: ['/usr/bin/python3', '-m', 'http.server', '8000'], restart: 'always', checks: [{ type: 'http', port: 8000, path: '/' }] }, checks: [check], instances: inst } : { name, definition: null, instances: inst });
    }
    if (p.startsWith('/api/rollouts') && rolloutRoute(req, p, url, body, json) !== false) return;
    if (p === '/api/alerts') return json(200, { alerts: [...alerts.values()] });
    return json(404, { error: 'not_found', message: p });
  }
  if (url.pathname === '/healthz') return json(200, { status: 'ok' });
  const file = normalize(join(DIST, url.pathname === '/' ? 'index.html' : url.pathname));
  if (!file.startsWith(DIST)) return json(403, {});
  try {
    const data = await readFile(file);
    const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(data);
  } catch {
    json(404, { error: 'not_found', message: url.pathname });
  }
});

server.on('upgrade', (req, sock) => {
  const url = new URL(req.url, 'http://x');
  const protos = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  const tok = protos.find((p) => p.startsWith('token.'))?.slice(6) ?? url.searchParams.get('token');
  if (url.pathname !== '/ws' || tok !== TOKEN) {
    sock.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: agentflow.v1\r\n\r\n`);
  sock.write(frame(JSON.stringify({ type: 'hello', node: self, role: ROLE, version: '0.1.0-mock', frozen })));
  sock.write(frame(JSON.stringify({ type: 'snapshot', cluster: cluster(), tasks: [...tasks.values()], alerts: [...alerts.values()], events: [], commands })));
  clients.add(sock);
  sock.on('data', (b) => { if ((b[0] & 0x0f) === 8) sock.end(); });
  sock.on('close', () => clients.delete(sock));
  sock.on('error', () => clients.delete(sock));
});

// Every second: a status event per node and a cluster message.
setInterval(() => {
  for (const id of ids) publish({ type: 'event', event: event(id, 'status', status(id)) });
  publish({ type: 'cluster', cluster: cluster() });
}, 1000);
// RATE other events per second, in 10 ms slices.
let n = 0;
setInterval(() => {
  for (let i = 0; i < RATE / 100; i++) {
    n++;
    const id = ids[n % ids.length];
    if (n % 50 === 0) {
      const t = { node: id, task_id: `t${n}`, name: 'backup', state: n % 100 ? 'running' : 'failed', attempt: 1, max_attempts: 1, exit_code: n % 100 ? 0 : 1, term_signal: 0, reason: '', queued_ms: now(), started_ms: now(), finished_ms: null, next_retry_ms: null };
      tasks.set(`${id}/${t.task_id}`, t);
      publish({ type: 'event', event: event(id, 'task', t) });
    } else if (n % 997 === 0) {
      const a = { node: id, alert_id: `a${n}`, rule: 'cpu_high', severity: 'warning', state: 'firing', value: 95, threshold: 90, subject: 'cpu', message: 'CPU above 90% for 60 s', fired_ms: now(), resolved_ms: null, acked_ms: null };
      alerts.set(`${id}/${a.alert_id}`, a);
      publish({ type: 'event', event: event(id, 'alert', a) });
    } else if (n % 333 === 0) {
      publish({ type: 'event', event: event(id, 'user', { name: 'deploy', payload: `build ${n}`, payload_bytes: 10 }) });
    } else {
      const tid = [...tasks.values()].at(-1)?.task_id ?? 't0';
      publish({ type: 'event', event: event(id, 'log', { node: id, task_id: tid, line_seq: n, stream: n % 5 ? 'stdout' : 'stderr', text: `line ${n} of some output`, dropped: 0, continued: false }) });
    }
  }
}, 10);

server.listen(PORT, '127.0.0.1', () => console.log(`mock node on http://127.0.0.1:${PORT}/?token=${TOKEN} (${NODES} nodes, ${RATE} events/s, role ${ROLE})`));
