#!/usr/bin/env node
// generate.mjs - writes the Kubernetes manifests of deploy/k8s from the
// services' facts (topology.mjs reads them from src/), so that thirteen
// services get the same, complete treatment and the mesh's allow-list is the
// call graph of the code, not a copy of it kept by hand.
//
//   node deploy/tools/generate.mjs            write deploy/k8s/...
//   node deploy/tools/generate.mjs --out DIR  write into DIR instead (the
//                                             validator compares the two)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { readTopology } from "./topology.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
// The namespace every namespace-bound name is generated for (service hosts,
// mesh principals, service URLs): "shopsphere", or "shopsphere-dev" while the
// dev overlay's patches are worked out (devPatches below).
const BASE_NS = "shopsphere";
const DEV_NS = "shopsphere-dev";
let NS = BASE_NS;
const IMAGE = "shopsphere";
const PART_OF = { "app.kubernetes.io/part-of": "shopsphere" };

// Kit defaults the mesh must agree with (src/kit/config.c): upstream timeout
// 5 s, breaker 30 s sleep, shutdown grace 10 s.
const UPSTREAM_TIMEOUT = "5s";
const BREAKER_SLEEP = "30s";
const GRACE_SECONDS = 30; /* > SHOPSPHERE_SHUTDOWN_GRACE_MS + preStop */

const labels = (name) => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/component": name.startsWith("sandbox") ? "sandbox" : "service",
  ...PART_OF,
});
const selector = (name) => ({ "app.kubernetes.io/name": name });
const sa = (name) => `shopsphere-${name}`;
const principal = (name, ns = NS) => `cluster.local/ns/${ns}/sa/${sa(name)}`;

function serviceAccount(s) {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: sa(s.name), labels: labels(s.name) },
    automountServiceAccountToken: false,
  };
}

// The key-encryption key (docs/identity.md, "Encrypted at rest") reaches
// only the services that read it, from a Secret of its own that the cluster
// provides (never in shopsphere-secrets, which every service reads);
// SHOPSPHERE_KEK_PREVIOUS is set only while the KEK is rotated.
const KEK_SECRET = "shopsphere-kek";
function kekEnv() {
  return [
    {
      name: "SHOPSPHERE_KEK",
      valueFrom: { secretKeyRef: { name: KEK_SECRET, key: "SHOPSPHERE_KEK" } },
    },
    {
      name: "SHOPSPHERE_KEK_PREVIOUS",
      valueFrom: {
        secretKeyRef: { name: KEK_SECRET, key: "SHOPSPHERE_KEK_PREVIOUS", optional: true },
      },
    },
  ];
}

function deployment(s, { replicas = 2 } = {}) {
  const big = ["gateway", "order", "product", "search"].includes(s.name);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: s.name, labels: labels(s.name) },
    spec: {
      replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector(s.name) },
      strategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
      },
      template: {
        metadata: {
          labels: labels(s.name),
          annotations: {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(s.port),
            "prometheus.io/path": "/metrics",
          },
        },
        spec: {
          serviceAccountName: sa(s.name),
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: GRACE_SECONDS,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selector(s.name) },
            },
          ],
          containers: [
            {
              name: s.name,
              image: `${IMAGE}:latest`,
              imagePullPolicy: "IfNotPresent",
              args: ["serve", `--services=${s.name}`],
              ports: [{ name: "http", containerPort: s.port, protocol: "TCP" }],
              envFrom: [
                { configMapRef: { name: "shopsphere-config" } },
                { secretRef: { name: "shopsphere-secrets" } },
              ],
              env: [
                { name: "SHOPSPHERE_BIND_ADDRESS", value: "0.0.0.0" },
                {
                  name: "SHOPSPHERE_POD_NAME",
                  valueFrom: { fieldRef: { fieldPath: "metadata.name" } },
                },
                ...(s.kek ? kekEnv() : []),
              ],
              startupProbe: {
                httpGet: { path: "/healthz", port: "http" },
                periodSeconds: 2,
                failureThreshold: 30,
              },
              livenessProbe: {
                httpGet: { path: "/healthz", port: "http" },
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: "/readyz", port: "http" },
                periodSeconds: 5,
                timeoutSeconds: 2,
                failureThreshold: 2,
              },
              // The endpoints controller needs a moment to take the pod out
              // of the Service before the process stops accepting.
              lifecycle: { preStop: { exec: { command: ["sleep", "5"] } } },
              resources: {
                requests: { cpu: big ? "100m" : "50m", memory: "48Mi" },
                limits: { cpu: big ? "1" : "500m", memory: big ? "256Mi" : "128Mi" },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
      },
    },
  };
}

function service(s) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: s.name, labels: labels(s.name) },
    spec: {
      selector: selector(s.name),
      ports: [{ name: "http", port: s.port, targetPort: "http", protocol: "TCP" }],
    },
  };
}

function pdb(s) {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: s.name, labels: labels(s.name) },
    spec: { minAvailable: 1, selector: { matchLabels: selector(s.name) } },
  };
}

// Who may call s: the services whose code calls it (and, for the gateway,
// the ingress gateway and the sandboxes' webhooks).
function callersOf(name, topo) {
  return [...topo.services, ...topo.sandboxes]
    .filter((o) => o.calls.includes(name))
    .map((o) => o.name)
    .sort();
}

function networkPolicy(s, topo, all) {
  const ports = (port) => [{ protocol: "TCP", port }];
  const ingress = [];
  const callers = callersOf(s.name, topo);
  if (s.name === "gateway") {
    ingress.push({
      from: [
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "istio-system" } } },
      ],
      ports: ports(s.port),
    });
  }
  if (callers.length > 0) {
    ingress.push({
      from: callers.map((c) => ({ podSelector: { matchLabels: selector(c) } })),
      ports: s.name === "sandbox-mail" ? [...ports(s.port), ...ports(s.port + 1)] : ports(s.port),
    });
  }
  // Prometheus scrapes /metrics from the monitoring namespace.
  ingress.push({
    from: [
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
    ],
    ports: ports(s.port),
  });
  const egress = [
    {
      to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
  ];
  for (const target of s.calls) {
    const t = all.find((o) => o.name === target);
    if (!t) continue;
    // The mail sandbox takes SMTP on the port after its inbox API's.
    const p = target === "sandbox-mail" ? [...ports(t.port), ...ports(t.port + 1)] : ports(t.port);
    egress.push({ to: [{ podSelector: { matchLabels: selector(target) } }], ports: p });
  }
  const infra = [];
  if (s.needs?.db) infra.push(5432);
  if (s.needs?.redis) infra.push(6379);
  if (s.needs?.amqp) infra.push(5672);
  if (s.name === "notification") infra.push(587, 25); // the mail relay
  infra.push(4318); // OTLP/HTTP to the collector
  // Managed PostgreSQL/Redis/RabbitMQ live outside the namespace: allow
  // their ports, not arbitrary egress.
  egress.push({ ports: infra.map((p) => ({ protocol: "TCP", port: p })) });
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: s.name, labels: labels(s.name) },
    spec: {
      podSelector: { matchLabels: selector(s.name) },
      policyTypes: ["Ingress", "Egress"],
      ingress,
      egress,
    },
  };
}

function hpa(s) {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: s.name, labels: labels(s.name) },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: s.name },
      minReplicas: 2,
      maxReplicas: s.name === "gateway" ? 20 : 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
      ],
      behavior: {
        scaleDown: { stabilizationWindowSeconds: 300 },
      },
    },
  };
}

// An event consumer scales on its queue's length and on CPU in one
// ScaledObject: KEDA owns that Deployment's HPA, so a second HPA would fight it.
function scaledObject(s) {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name: s.name, labels: labels(s.name) },
    spec: {
      scaleTargetRef: { name: s.name },
      minReplicaCount: 2,
      maxReplicaCount: 10,
      pollingInterval: 15,
      cooldownPeriod: 300,
      triggers: [
        {
          type: "rabbitmq",
          metadata: { protocol: "amqp", queueName: `shopsphere.${s.name}`, mode: "QueueLength", value: "200" },
          authenticationRef: { name: "shopsphere-rabbitmq" },
        },
        { type: "cpu", metricType: "Utilization", metadata: { value: "70" } },
      ],
    },
  };
}

function triggerAuthentication() {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "TriggerAuthentication",
    metadata: { name: "shopsphere-rabbitmq", labels: PART_OF },
    spec: {
      secretTargetRef: [
        { parameter: "host", name: "shopsphere-secrets", key: "SHOPSPHERE_AMQP_URL" },
      ],
    },
  };
}

function configMap(topo) {
  const data = {
    SHOPSPHERE_PROFILE: "prod",
    SHOPSPHERE_LOG_LEVEL: "info",
    SHOPSPHERE_PORT_BASE: "8080",
    SHOPSPHERE_HTTP_THREADS: "8",
    SHOPSPHERE_DB_POOL_SIZE: "8",
    SHOPSPHERE_REDIS_POOL_SIZE: "8",
    SHOPSPHERE_SHUTDOWN_GRACE_MS: "10000",
    SHOPSPHERE_UPSTREAM_TIMEOUT_MS: "5000",
    SHOPSPHERE_RATE_LIMIT_PER_MINUTE: "100",
    SHOPSPHERE_OTLP_ENDPOINT: "http://otel-collector.monitoring:4318",
  };
  for (const s of [...topo.services, ...topo.sandboxes]) {
    const key = `SHOPSPHERE_${s.name.toUpperCase().replace(/-/g, "_")}_URL`;
    data[key] = `http://${s.name}.${NS}.svc.cluster.local:${s.port}`;
  }
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "shopsphere-config", labels: PART_OF },
    data,
  };
}

function migrateJob() {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: "shopsphere-migrate",
      labels: labels("migrate"),
      annotations: {
        "argocd.argoproj.io/hook": "PreSync",
        "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
      },
    },
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: 600,
      template: {
        metadata: { labels: labels("migrate") },
        spec: {
          restartPolicy: "OnFailure",
          serviceAccountName: sa("migrate"),
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "migrate",
              image: `${IMAGE}:latest`,
              args: ["migrate", "--services=all"],
              envFrom: [
                { configMapRef: { name: "shopsphere-config" } },
                { secretRef: { name: "shopsphere-secrets" } },
              ],
              resources: {
                requests: { cpu: "50m", memory: "32Mi" },
                limits: { cpu: "500m", memory: "128Mi" },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
  };
}

// --- Istio ------------------------------------------------------------------
function peerAuthentication() {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "default", labels: PART_OF },
    spec: { mtls: { mode: "STRICT" } },
  };
}

function authorizationPolicy(s, topo) {
  const callers = callersOf(s.name, topo).filter((c) => c !== "gateway");
  const rules = [];
  if (s.name === "gateway") {
    rules.push({
      from: [{ source: { principals: ["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"] } }],
    });
  } else if (callersOf(s.name, topo).includes("gateway")) {
    // The gateway forwards public routes; /internal/* is never public.
    rules.push({
      from: [{ source: { principals: [principal("gateway")] } }],
      to: [{ operation: { notPaths: ["/internal/*"] } }],
    });
  }
  if (callers.length > 0) {
    rules.push({ from: [{ source: { principals: callers.map((c) => principal(c)) } }] });
  }
  rules.push({
    from: [{ source: { namespaces: ["monitoring"] } }],
    to: [{ operation: { methods: ["GET"], paths: ["/metrics", "/healthz", "/readyz"] } }],
  });
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: s.name, labels: labels(s.name) },
    spec: { selector: { matchLabels: selector(s.name) }, action: "ALLOW", rules },
  };
}

function destinationRule(s) {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: s.name, labels: labels(s.name) },
    spec: {
      host: `${s.name}.${NS}.svc.cluster.local`,
      trafficPolicy: {
        tls: { mode: "ISTIO_MUTUAL" },
        connectionPool: {
          tcp: { maxConnections: 1024, connectTimeout: "1s" },
          http: { http1MaxPendingRequests: 1024, idleTimeout: "60s" },
        },
        // Mirrors the kit's breaker: eject a host after 5 consecutive 5xx
        // for the breaker's sleep.
        outlierDetection: {
          consecutive5xxErrors: 5,
          interval: "10s",
          baseEjectionTime: BREAKER_SLEEP,
          maxEjectionPercent: 50,
        },
      },
    },
  };
}

function virtualService(s) {
  const host = `${s.name}.${NS}.svc.cluster.local`;
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: s.name, labels: labels(s.name) },
    spec: {
      hosts: [host],
      http: [
        {
          route: [{ destination: { host, port: { number: s.port } } }],
          timeout: UPSTREAM_TIMEOUT,
          // Only failures where the request never reached the service: a
          // POST that did reach it is the kit's business (idempotency keys).
          retries: { attempts: 2, perTryTimeout: "2s", retryOn: "connect-failure,refused-stream,reset" },
        },
      ],
    },
  };
}

function ingress() {
  return [
    {
      apiVersion: "networking.istio.io/v1",
      kind: "Gateway",
      metadata: { name: "shopsphere", labels: PART_OF },
      spec: {
        selector: { istio: "ingressgateway" },
        servers: [
          {
            port: { number: 443, name: "https", protocol: "HTTPS" },
            hosts: ["shop.example.com"],
            tls: { mode: "SIMPLE", credentialName: "shopsphere-tls" },
          },
        ],
      },
    },
    {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "shopsphere-edge", labels: PART_OF },
      spec: {
        hosts: ["shop.example.com"],
        gateways: ["shopsphere"],
        http: [
          {
            route: [{ destination: { host: `gateway.${NS}.svc.cluster.local`, port: { number: 8080 } } }],
            timeout: "30s",
          },
        ],
      },
    },
  ];
}

function faultInjectionExample() {
  const host = `payment.${NS}.svc.cluster.local`;
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: {
      name: "payment-chaos",
      labels: PART_OF,
      annotations: {
        "shopsphere.dev/purpose":
          "chaos drill: 2 s delay on 30% and 503 on 5% of calls to payment; apply by hand, delete after the drill",
      },
    },
    spec: {
      hosts: [host],
      http: [
        {
          fault: {
            delay: { percentage: { value: 30 }, fixedDelay: "2s" },
            abort: { percentage: { value: 5 }, httpStatus: 503 },
          },
          route: [{ destination: { host, port: { number: 8085 } } }],
          timeout: UPSTREAM_TIMEOUT,
        },
      ],
    },
  };
}

// --- Argo ---------------------------------------------------------------------
function rollout(name, port) {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    metadata: { name, labels: labels(name) },
    spec: {
      replicas: 3,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector(name) },
      workloadRef: { apiVersion: "apps/v1", kind: "Deployment", name, scaleDown: "progressively" },
      strategy: {
        canary: {
          maxUnavailable: 0,
          steps: [
            { setWeight: 10 },
            { pause: { duration: "2m" } },
            { analysis: { templates: [{ templateName: "shopsphere-slo" }], args: [{ name: "service", value: name }] } },
            { setWeight: 50 },
            { pause: { duration: "5m" } },
            { analysis: { templates: [{ templateName: "shopsphere-slo" }], args: [{ name: "service", value: name }] } },
          ],
        },
      },
    },
  };
}

function analysisTemplate() {
  const prom = "http://prometheus.monitoring:9090";
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AnalysisTemplate",
    metadata: { name: "shopsphere-slo", labels: PART_OF },
    spec: {
      args: [{ name: "service" }],
      metrics: [
        {
          name: "error-rate",
          interval: "1m",
          count: 5,
          failureLimit: 1,
          successCondition: "len(result) == 0 || result[0] < 0.001",
          provider: {
            prometheus: {
              address: prom,
              query:
                'sum(rate(http_requests_total{service="{{args.service}}",status=~"5.."}[2m])) / sum(rate(http_requests_total{service="{{args.service}}"}[2m]))',
            },
          },
        },
        {
          name: "p99-latency",
          interval: "1m",
          count: 5,
          failureLimit: 1,
          successCondition: "len(result) == 0 || result[0] < 1",
          provider: {
            prometheus: {
              address: prom,
              query:
                'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{args.service}}"}[2m])))',
            },
          },
        },
      ],
    },
  };
}

function argoApplication(overlay) {
  const prod = overlay === "prod";
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: `shopsphere-${overlay}`, namespace: "argocd", labels: PART_OF },
    spec: {
      project: "default",
      source: {
        repoURL: "https://git.example.com/shopsphere/shopsphere.git",
        targetRevision: prod ? "release" : "main",
        path: `deploy/k8s/overlays/${overlay}`,
      },
      destination: { server: "https://kubernetes.default.svc", namespace: prod ? BASE_NS : DEV_NS },
      syncPolicy: prod
        ? { syncOptions: ["CreateNamespace=true"] }
        : { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    },
  };
}

// --- files ----------------------------------------------------------------------
const HEADER = "# Generated by deploy/tools/generate.mjs from the services' sources: edit\n# the generator, not this file (make test checks that they agree).\n";

function dump(docs) {
  return HEADER + docs.map((d) => YAML.stringify(d, { lineWidth: 0 })).join("---\n");
}

// The base's documents per file, for the namespace NS.
function baseDocs(topo, all) {
  const files = {};
  files["namespace.yaml"] = [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: NS, labels: { ...PART_OF, "istio-injection": "enabled" } },
    },
  ];
  files["config.yaml"] = [configMap(topo), triggerAuthentication()];
  files["migrate.yaml"] = [serviceAccount({ name: "migrate" }), migrateJob()];
  files["istio.yaml"] = [peerAuthentication(), ...ingress()];
  for (const s of topo.services) {
    const docs = [serviceAccount(s), deployment(s), service(s), pdb(s), networkPolicy(s, topo, all)];
    docs.push(s.consumes ? scaledObject(s) : hpa(s));
    docs.push(authorizationPolicy(s, topo), destinationRule(s), virtualService(s));
    files[`${s.name}.yaml`] = docs;
  }
  return files;
}

// JSON-pointer replace operations that turn a into b (same shape; a list
// of another length is replaced whole).
function diffOps(a, b, path = "") {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const bothObjects = a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects || (Array.isArray(a) && a.length !== b.length)) return [{ op: "replace", path: path || "/", value: b }];
  const ops = [];
  for (const k of Object.keys(b)) {
    const p = `${path}/${String(k).replace(/~/g, "~0").replace(/\//g, "~1")}`;
    ops.push(...(k in a ? diffOps(a[k], b[k], p) : [{ op: "add", path: p, value: b[k] }]));
  }
  return ops;
}

// The dev overlay lives in its own namespace: every name bound to the
// namespace (hosts, principals, URLs) is patched to what the base would say
// there (kustomize's namespace setting renames the Namespace object). Worked out by generating the base for
// DEV_NS and diffing; the overlay's own namespace setting does the rest.
function devPatches(topo, all, base) {
  NS = DEV_NS;
  let dev;
  try {
    dev = baseDocs(topo, all);
  } finally {
    NS = BASE_NS;
  }
  const patches = [];
  for (const [rel, docs] of Object.entries(base)) {
    docs.forEach((doc, i) => {
      // kustomize's namespace setting renames the Namespace itself.
      if (doc.kind === "Namespace") return;
      const { namespace: _a, ...meta } = doc.metadata;
      const { namespace: _b, ...devMeta } = dev[rel][i].metadata;
      const ops = diffOps({ ...doc, metadata: meta }, { ...dev[rel][i], metadata: devMeta });
      if (ops.length > 0) patches.push({ target: { kind: doc.kind, name: doc.metadata.name }, patch: YAML.stringify(ops) });
    });
  }
  return patches;
}

export function generate(topo) {
  const files = {};
  const all = [...topo.services, ...topo.sandboxes];
  const baseResources = ["namespace.yaml", "config.yaml", "migrate.yaml", "istio.yaml"];
  const base = baseDocs(topo, all);
  for (const [rel, docs] of Object.entries(base)) {
    files[`base/${rel}`] = dump(docs);
    if (rel !== "namespace.yaml" && rel !== "config.yaml" && rel !== "migrate.yaml" && rel !== "istio.yaml")
      baseResources.push(rel);
  }
  files["base/kustomization.yaml"] = dump([
    {
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace: NS,
      resources: baseResources,
      images: [{ name: IMAGE, newName: "registry.example.com/shopsphere/shopsphere", newTag: "0.1.0" }],
    },
  ]);

  // dev: one replica each, the simulated external systems, debug logs.
  const sandboxDocs = [];
  NS = DEV_NS;
  try {
    for (const s of topo.sandboxes) {
      const d = deployment(s, { replicas: 1 });
      sandboxDocs.push(serviceAccount(s), d, service(s), pdb(s), networkPolicy(s, topo, all));
      sandboxDocs.push(authorizationPolicy(s, topo));
    }
  } finally {
    NS = BASE_NS;
  }
  files["overlays/dev/sandboxes.yaml"] = dump(sandboxDocs);
  const devUrls = {};
  for (const s of topo.sandboxes) devUrls[`SHOPSPHERE_${s.name.toUpperCase().replace(/-/g, "_")}_URL`] = `http://${s.name}:${s.port}`;
  files["overlays/dev/config-patch.yaml"] = dump([
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "shopsphere-config" },
      data: {
        SHOPSPHERE_PROFILE: "dev",
        SHOPSPHERE_LOG_LEVEL: "debug",
        SHOPSPHERE_SMTP_URL: "smtp://sandbox-mail:8098",
        SHOPSPHERE_PAYMENT_WEBHOOK_URL: "http://gateway:8080/api/v1/payments/webhooks/sandbox",
        SHOPSPHERE_COURIER_WEBHOOK_URL: "http://gateway:8080/api/v1/shipping/webhooks/sandbox",
      },
    },
  ]);
  files["overlays/dev/kustomization.yaml"] = dump([
    {
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace: DEV_NS,
      resources: ["../../base", "sandboxes.yaml"],
      patches: [
        { path: "config-patch.yaml" },
        {
          target: { kind: "Deployment" },
          patch: YAML.stringify([{ op: "replace", path: "/spec/replicas", value: 1 }]),
        },
        // The autoscalers' floor too, or they would scale each back to 2.
        {
          target: { kind: "HorizontalPodAutoscaler" },
          patch: YAML.stringify([{ op: "replace", path: "/spec/minReplicas", value: 1 }]),
        },
        {
          target: { kind: "ScaledObject" },
          patch: YAML.stringify([{ op: "replace", path: "/spec/minReplicaCount", value: 1 }]),
        },
        // Hosts, principals and URLs of the shopsphere-dev namespace.
        ...devPatches(topo, all, base),
      ],
      images: [{ name: IMAGE, newName: "registry.example.com/shopsphere/shopsphere", newTag: "main" }],
    },
  ]);

  // prod: canaries for the gateway and the order service, more headroom.
  files["overlays/prod/rollouts.yaml"] = dump([
    analysisTemplate(),
    rollout("gateway", 8080),
    rollout("order", 8084),
  ]);
  files["overlays/prod/kustomization.yaml"] = dump([
    {
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace: NS,
      resources: ["../../base", "rollouts.yaml"],
      patches: [
        // The Rollouts own these pods: the Deployments only hold the template.
        { target: { kind: "Deployment", name: "gateway" }, patch: YAML.stringify([{ op: "replace", path: "/spec/replicas", value: 0 }]) },
        { target: { kind: "Deployment", name: "order" }, patch: YAML.stringify([{ op: "replace", path: "/spec/replicas", value: 0 }]) },
        { target: { kind: "HorizontalPodAutoscaler", name: "gateway" }, patch: YAML.stringify([
          { op: "replace", path: "/spec/scaleTargetRef", value: { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "gateway" } },
        ]) },
        { target: { kind: "ScaledObject", name: "order" }, patch: YAML.stringify([
          { op: "replace", path: "/spec/scaleTargetRef", value: { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "order" } },
        ]) },
      ],
      images: [{ name: IMAGE, newName: "registry.example.com/shopsphere/shopsphere", newTag: "0.1.0" }],
    },
  ]);
  files["chaos/payment-fault.yaml"] = dump([faultInjectionExample()]);
  files["../argocd/applications.yaml"] = dump([argoApplication("dev"), argoApplication("prod")]);
  return files;
}

function main() {
  const outIndex = process.argv.indexOf("--out");
  if (process.argv.includes("--help")) {
    console.log("usage: node deploy/tools/generate.mjs [--out DIR]\nWrites deploy/k8s (and deploy/argocd) from the services' sources.");
    return;
  }
  const out = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : join(ROOT, "deploy/k8s");
  const files = generate(readTopology(ROOT));
  for (const [rel, text] of Object.entries(files)) {
    const path = join(out, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  console.log(`generate: ${Object.keys(files).length} files under ${out}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
