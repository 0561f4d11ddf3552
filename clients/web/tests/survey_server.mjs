// The real survey-server binary in a temporary folder: start it, ask its CLI for an admin
// token, and call its admin API, as an admin would. `serveArgs` go to `serve` (e.g. `--demo`);
// what the server printed before it listened is returned as `stdout`.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function startSurveyServer(binary, serveArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'field-app-test-'));
  const dbPath = join(dir, 't.db');
  const database = `sqlite://${dbPath}`;
  const child = spawn(binary, ['serve', ...serveArgs, '--addr', '127.0.0.1:0', '--metrics-addr', 'off', '--database', database], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  let log = '';
  let stdout = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const found = stdout.match(/listening on (http:\/\/\S+)/);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  const adminToken = execFileSync(binary, ['token', 'create', '--role', 'admin', '--name', 'browser-test', '--database', database], { encoding: 'utf8' }).trim();
  const admin = async (method, path, body) => {
    const res = await fetch(origin + path, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  // Read-only SQL on the server's own database, to check what arrived. sqlite3 opens the WAL
  // database alongside the running server safely.
  const sql = (query) => execFileSync('sqlite3', ['-readonly', dbPath, query], { encoding: 'utf8' }).trim();
  // A write no API makes (a token past its expiry).
  const sqlWrite = (statement) => execFileSync('sqlite3', ['-cmd', '.timeout 30000', dbPath, statement], { encoding: 'utf8' });
  const stop = async () => {
    if (process.env.TEST_LOG) console.log(log.replace(/^/gm, '# server: '));
    child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode !== null ? done() : child.on('exit', done)));
    rmSync(dir, { recursive: true, force: true });
  };
  return { origin, stdout, admin, sql, sqlWrite, stop, log: () => log };
}
