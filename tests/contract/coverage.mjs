// coverage.mjs - which documented operations the system tests exercised.
// tests/system/lib.mjs writes one line per (document, operation, status)
// it checked into $SHOPSPHERE_CONTRACT_HITS/hits-PID.txt; this reads them
// and fails when an operation of the documents was never exercised (a
// success answer, status under 400, checked against the document), unless
// api/untested-operations.txt names it with a reason (an endpoint that is
// documented but not built yet). An exempt operation that was exercised
// fails too, so the list only shrinks.
//
// Usage: node tests/contract/coverage.mjs HITS_DIR
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { contractFor, ROOT } from './contract.mjs';

const dir = process.argv[2];
if (!dir) { console.error('usage: coverage.mjs HITS_DIR'); process.exit(2); }

const hit = new Map(); // "doc operationId" -> Set of statuses
for (const f of existsSync(dir) ? readdirSync(dir) : []) {
  for (const line of readFileSync(`${dir}/${f}`, 'utf8').split('\n')) {
    const [doc, op, status] = line.split(' ');
    if (!status || Number(status) >= 400) continue; // refusals alone do not count
    const key = `${doc} ${op}`;
    if (!hit.has(key)) hit.set(key, new Set());
    hit.get(key).add(status);
  }
}

const exempt = new Map();
const exemptFile = `${ROOT}/api/untested-operations.txt`;
if (existsSync(exemptFile)) {
  for (const raw of readFileSync(exemptFile, 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [doc, op, ...why] = line.split(/\s+/);
    exempt.set(`${doc} ${op}`, why.join(' '));
  }
}

let bad = 0, total = 0, covered = 0;
for (const doc of ['openapi.yaml', 'sandbox.yaml', 'sandbox-mail.yaml']) {
  for (const o of contractFor(doc).operations) {
    const key = `${doc} ${o.id}`;
    total++;
    const statuses = hit.get(key);
    if (statuses) {
      covered++;
      if (exempt.has(key)) {
        console.error(`coverage: ${key} is exercised now: remove it from api/untested-operations.txt`);
        bad++;
      }
    } else if (!exempt.has(key)) {
      console.error(`coverage: ${key} (${o.method} ${o.template}) is documented but no system test got a success answer from it`);
      bad++;
    }
  }
}
console.log(`coverage: ${covered} of ${total} documented operations exercised by validated system tests; ${exempt.size} listed as not built yet`);
process.exit(bad ? 1 : 0);
