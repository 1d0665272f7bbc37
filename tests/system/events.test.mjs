// events.test.mjs - the event bus inside the running platform: every service
// with a database and a broker runs a relay (its outbox metrics show up),
// every service schema has an outbox, and `shopsphere events` answers.
// The delivery guarantees themselves (rollback, broker outage, killed
// consumer, dead letters and replay, 10,000 events) are proven against the
// real servers by tests/unit/test_bus.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, eventually, runShopsphere, serviceUrl } from './lib.mjs';

// Services with NEEDS_DB | NEEDS_AMQP (src/services/*/<name>.c).
const RELAYING = ['user', 'product', 'order', 'payment', 'shipping', 'review',
  'notification', 'admin', 'auth', 'search', 'recommendation'];

const run = (args) => runShopsphere(args);

test('every service with a database and a broker runs an outbox relay', async () => {
  for (const name of RELAYING) {
    const text = await eventually(async () => {
      const r = await call(`${serviceUrl(name)}/metrics`);
      return r.status === 200 && r.text.includes(`bus_outbox_backlog{service="${name}"}`)
        ? r.text : null;
    }, 15000);
    assert.ok(text, `${name}: no bus_outbox_backlog in /metrics`);
    assert.match(text, new RegExp(`bus_outbox_oldest_age_seconds\\{service="${name}"\\} `));
  }
});

test('outbox status lists the outbox of every service schema', async () => {
  const r = await run(['events', 'outbox', 'status']);
  assert.equal(r.code, 0, r.stderr);
  for (const name of RELAYING) {
    assert.match(r.stdout, new RegExp(`^${name}\\s+\\d+\\s+[\\d.]+$`, 'm'),
      `${name} missing from:\n${r.stdout}`);
  }
  const one = await run(['events', 'outbox', 'status', '--service', 'order']);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout.trim().split('\n').length, 2);
});

test('dead-letter commands answer for every service', async () => {
  const list = await run(['events', 'dlq', 'list']);
  assert.equal(list.code, 0, list.stderr);
  for (const name of RELAYING) assert.match(list.stdout, new RegExp(`^${name}\\s`, 'm'));
  const replay = await run(['events', 'dlq', 'replay', '--service', 'order']);
  assert.equal(replay.code, 0, replay.stderr);
});

test('tail follows the exchange and stops at its timeout', async () => {
  const r = await run(['events', 'tail', '--type', 'nothing.will.match', '--timeout', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
});

test('events refuses bad input and explains itself', async () => {
  const help = await run(['events', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /dlq replay/);
  assert.match(help.stdout, /outbox status/);
  assert.equal((await run(['events'])).code, 2);
  assert.equal((await run(['events', 'nonsense'])).code, 2);
  const bad = await run(['events', 'dlq', 'list', '--service', 'no such']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--service/);
  assert.equal((await run(['events', 'tail', '--count', 'x'])).code, 2);
});

test('the event log keeps what was published, and replay re-drives it into a consumer', async () => {
  // Anything published from now on lands in the log; a product write is one
  // such event (no sign-in needed: the demo seed and every test write some).
  const since = new Date(Date.now() - 60000).toISOString();
  const log = await run(['events', 'log', '--since', since, '--count', '5']);
  assert.equal(log.code, 0, log.stderr);
  for (const line of log.stdout.split('\n').filter(Boolean)) {
    const ev = JSON.parse(line);
    assert.deepEqual(Object.keys(ev).sort(),
      ['aggregate_id', 'data', 'event_id', 'event_type', 'timestamp', 'trace_id', 'version']);
    assert.ok(Date.parse(ev.timestamp) >= Date.parse(since));
  }
  // A read model is replayed to (admin's reports): its inbox skips what it
  // already applied; a service without one is refused (tests/system/
  // replay.test.mjs rebuilds the read models).
  const replay = await run(['events', 'replay', '--to', 'admin', '--since', since]);
  assert.equal(replay.code, 0, replay.stderr);
  assert.match(replay.stdout, /^\d+ event\(s\) read from shopsphere\.log, \d+ replayed to shopsphere\.admin \(its inbox skips those it already applied\)$/m);
  const order = await run(['events', 'replay', '--to', 'order', '--since', since]);
  assert.equal(order.code, 2);
  assert.match(order.stderr, /order has no read model that the event log rebuilds/);
  // The dead-letter replay is still there, beside it.
  assert.equal((await run(['events', 'dlq', 'replay', '--service', 'notification'])).code, 0);
});

test('events replay and log refuse bad input', async () => {
  const help = await run(['events', '--help']);
  assert.match(help.stdout, /replay --to SERVICE/);
  assert.match(help.stdout, /log \[--since TIME\]/);
  const noTarget = await run(['events', 'replay', '--since', '2026-01-01']);
  assert.equal(noTarget.code, 2);
  assert.match(noTarget.stderr, /--to/);
  const notConsumer = await run(['events', 'replay', '--to', 'cart']);
  assert.equal(notConsumer.code, 2);
  const badTime = await run(['events', 'replay', '--to', 'admin', '--since', 'yesterday']);
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /--since/);
  assert.equal((await run(['events', 'log', '--until', '2026-13-01'])).code, 2);
});
