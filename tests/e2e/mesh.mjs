// A real mesh for the dashboard's end-to-end tests: certificates from our
// own `agentflow certs`, a signal and agentflow-node processes on
// loopback, each with a private data directory under one temporary
// directory.  Ports are picked by the kernel (port 0) and read back from
// the processes' "started" log lines.  Everything is stopped by PID.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN = process.env.AGENTFLOW_BIN ?? path.resolve('build/bin');

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitUntil(pred, timeoutMs, what, intervalMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await pred();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last})`);
}

class Proc {
  constructor(name, argv) {
    this.name = name;
    this.argv = argv;
    this.lines = [];
  }

  start(readyMsg) {
    this.child = spawn(this.argv[0], this.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let buf = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start`)), 20000);
      this.child.stderr.on('data', (d) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          this.lines.push(line);
          try {
            const obj = JSON.parse(line);
            if (obj.msg === readyMsg) {
              clearTimeout(timer);
              resolve(obj);
            }
          } catch {
            /* not JSON */
          }
        }
      });
      this.child.on('exit', (code) => {
        clearTimeout(timer);
        this.exited = code;
        reject(new Error(`${this.name} exited (${code}): ${this.lines.slice(-5).join('\n')}`));
      });
    });
  }

  kill(sig = 'SIGTERM') {
    if (this.child && this.exited === undefined) this.child.kill(sig);
  }

  async stop() {
    if (!this.child || this.exited !== undefined) return;
    this.child.kill('SIGTERM');
    const end = Date.now() + 5000;
    while (this.exited === undefined && this.child.exitCode === null && Date.now() < end)
      await sleep(50);
    if (this.child.exitCode === null && this.exited === undefined) this.child.kill('SIGKILL');
  }
}

export class Mesh {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-e2e-'));
    this.certs = path.join(this.dir, 'certs');
    this.nodes = {};
    this.procs = [];
  }

  certsFor(ids) {
    execFileSync(path.join(BIN, 'agentflow'), ['certs', 'init-ca', '--dir', this.certs], { stdio: 'ignore' });
    for (const id of ids)
      execFileSync(path.join(BIN, 'agentflow'), ['certs', 'issue', id, '--dir', this.certs], { stdio: 'ignore' });
  }

  async startSignal() {
    const p = new Proc('signal', [path.join(BIN, 'agentflow-signal'), '--listen', '127.0.0.1:0',
      '--ca', path.join(this.certs, 'ca.crt'), '--rate', '0', '--heartbeat', '1', '--ttl', '5']);
    this.procs.push(p);
    const obj = await p.start('listening');
    this.signalUrl = `http://127.0.0.1:${obj.port}`;
    this.signal = p;
  }

  async startNode(id, extra = []) {
    const data = path.join(this.dir, `data-${id}`);
    const p = new Proc(id, [path.join(BIN, 'agentflow-node'),
      '--ca', path.join(this.certs, 'ca.crt'),
      '--cert', path.join(this.certs, `${id}.crt`), '--key', path.join(this.certs, `${id}.key`),
      '--data-dir', data, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0',
      '--signal', this.signalUrl, ...extra]);
    this.procs.push(p);
    const obj = await p.start('node started');
    const tokens = JSON.parse(fs.readFileSync(path.join(data, 'tokens.json'), 'utf8'));
    this.nodes[id] = { proc: p, port: obj.api_port, tokens, data };
    return this.nodes[id];
  }

  async api(id, method, route, body, token = 'write') {
    const n = this.nodes[id];
    const r = await fetch(`http://127.0.0.1:${n.port}${route}`, {
      method,
      headers: { Authorization: `Bearer ${n.tokens[token]}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: r.status, json };
  }

  async stop() {
    for (const p of [...this.procs].reverse()) await p.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
