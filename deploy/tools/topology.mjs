// topology.mjs - what the deployment needs to know about the services, read
// from the C sources rather than written down twice: each service's port
// offset, which infrastructure it needs (the module's `.needs`), whether it
// consumes events (`.events`), and which other services it calls (every
// `SVC_*` a service's folder names besides its own). The generator turns
// this into manifests; the validator checks the manifests against it.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

// Port offsets from SHOPSPHERE_PORT_BASE (src/kit/config.c); sandboxes are
// the simulated external systems and only run in the dev overlay.
export const SERVICES = [
  { name: "gateway", id: "SVC_GATEWAY", offset: 0 },
  { name: "user", id: "SVC_USER", offset: 1 },
  { name: "product", id: "SVC_PRODUCT", offset: 2 },
  { name: "cart", id: "SVC_CART", offset: 3 },
  { name: "order", id: "SVC_ORDER", offset: 4 },
  { name: "payment", id: "SVC_PAYMENT", offset: 5 },
  { name: "shipping", id: "SVC_SHIPPING", offset: 6 },
  { name: "review", id: "SVC_REVIEW", offset: 7 },
  { name: "notification", id: "SVC_NOTIFICATION", offset: 8 },
  { name: "admin", id: "SVC_ADMIN", offset: 9 },
  { name: "auth", id: "SVC_AUTH", offset: 10 },
  { name: "search", id: "SVC_SEARCH", offset: 11 },
  { name: "recommendation", id: "SVC_RECOMMENDATION", offset: 12 },
];

export const SANDBOXES = [
  { name: "sandbox-payment", id: "SVC_SANDBOX_PAYMENT", offset: 15 },
  { name: "sandbox-courier", id: "SVC_SANDBOX_COURIER", offset: 16 },
  { name: "sandbox-mail", id: "SVC_SANDBOX_MAIL", offset: 17 },
];

export const PORT_BASE = 8080;

function cFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".c"))
    .map((f) => readFileSync(join(dir, f), "utf8"));
}

// Reads the facts of every service from src/. Returns
// {services: [{name, port, needs: {db, redis, amqp}, consumes, kek, calls: [...]}],
//  sandboxes: [...]} with only the sandboxes that exist in the code.
export function readTopology(root) {
  const byId = new Map([...SERVICES, ...SANDBOXES].map((s) => [s.id, s.name]));
  const configH = readFileSync(join(root, "src/kit/config.h"), "utf8");
  const services = SERVICES.map((s) => {
    const sources = cFiles(join(root, "src/services", s.name)).join("\n");
    const needsLine = /\.needs\s*=\s*([^,]+),/.exec(sources);
    const needs = needsLine ? needsLine[1] : "";
    const calls = new Set();
    if (s.name === "gateway") {
      for (const o of SERVICES) if (o.name !== "gateway") calls.add(o.name);
    } else {
      for (const m of sources.matchAll(/\bSVC_[A-Z_]+\b/g)) {
        const target = byId.get(m[0]);
        if (target && target !== s.name) calls.add(target);
      }
    }
    // Mail leaves by SMTP (SHOPSPHERE_SMTP_URL), not through the client:
    // in the dev overlay it reaches the mail sandbox.
    if (s.name === "notification" && configH.includes("SVC_SANDBOX_MAIL")) calls.add("sandbox-mail");
    return {
      name: s.name,
      port: PORT_BASE + s.offset,
      needs: {
        db: needs.includes("NEEDS_DB"),
        redis: needs.includes("NEEDS_REDIS"),
        // A listener (bus.h) hears events without needing the broker to be
        // ready: it connects to RabbitMQ all the same.
        amqp: needs.includes("NEEDS_AMQP") || /\.listeners\s*=/.test(sources),
      },
      consumes: /\.events\s*=/.test(sources),
      // It reads the key-encryption key (cfg->kek, SHOPSPHERE_KEK): only
      // such a service gets it, from its own Secret.
      kek: /->kek\b/.test(sources),
      calls: [...calls].sort(),
    };
  });
  const sandboxes = SANDBOXES.filter((s) => configH.includes(s.id)).map(
    (s) => ({
      name: s.name,
      port: PORT_BASE + s.offset,
      // The card processor and the courier post signed webhooks to the
      // public API, like the real providers they stand in for; the mail
      // sandbox only receives.
      calls: s.name === "sandbox-mail" ? [] : ["gateway"],
    }),
  );
  return { services, sandboxes };
}
