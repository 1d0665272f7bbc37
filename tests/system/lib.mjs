// lib.mjs - shared helpers for the system tests: where the platform is, and
// small wrappers around fetch that keep the tests about behaviour.
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';

export const BASE = process.env.SHOPSPHERE_TEST_BASE_URL ?? 'http://127.0.0.1:18080';
export const PORT_BASE = Number(process.env.SHOPSPHERE_PORT_BASE ?? 18080);
export const ROOT = process.env.SHOPSPHERE_ROOT ?? new URL('../..', import.meta.url).pathname;
export const API = `${BASE}/api/v1`;

export const SERVICES = {
  gateway: 0, user: 1, product: 2, cart: 3, order: 4, payment: 5, shipping: 6,
  review: 7, notification: 8, admin: 9, auth: 10, search: 11, recommendation: 12,
  'sandbox-payment': 15, 'sandbox-courier': 16, 'sandbox-mail': 17,
};

export function serviceUrl(name) {
  return `http://127.0.0.1:${PORT_BASE + SERVICES[name]}`;
}

// fetch that returns {status, headers, body (parsed JSON when possible), text}.
export async function call(url, { method = 'GET', headers = {}, body, raw } = {}) {
  const init = { method, headers: { ...headers } };
  if (raw !== undefined) {
    init.body = raw;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body: json, text };
}

// Asserts the standard error envelope with the given status and code.
export function assertEnvelope(res, status, code) {
  assert.equal(res.status, status, `status ${res.status}: ${res.text}`);
  assert.ok(res.body && res.body.error, `no error envelope: ${res.text}`);
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok('details' in res.body.error);
  assert.match(res.body.trace_id, /^[0-9a-f]{32}$/);
  assert.ok(res.headers.get('x-request-id'));
}

export function infra(...args) {
  return execFileSync(`${ROOT}/scripts/infra.sh`, args, {
    encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value or timeoutMs passes.
export async function eventually(fn, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    await sleep(intervalMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms (last: ${last})`);
}
