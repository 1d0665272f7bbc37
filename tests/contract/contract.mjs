// contract.mjs - checks HTTP exchanges against the OpenAPI 3.1 documents
// (api/openapi.yaml for the gateway, api/sandbox.yaml for the simulated
// external systems). The system tests' request helper (tests/system/lib.mjs)
// runs every request and answer through checkExchange(); a problem fails
// the test with a message naming the operation, the status and the field.
//
// Schemas are JSON Schema 2020-12 (the dialect of OpenAPI 3.1) and are
// checked by Ajv's 2020-12 validator with the standard formats. Parameters,
// request bodies, responses and headers are read from the document as
// OpenAPI 3.1 defines them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// --- loading --------------------------------------------------------------------

function pointer(doc, ref, file) {
  if (!ref.startsWith('#/')) throw new Error(`${file}: only local $refs are supported (${ref})`);
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = node?.[key];
    if (node === undefined) throw new Error(`${file}: $ref ${ref} points at nothing`);
  }
  return node;
}

// Follows $ref chains of non-schema objects (parameters, responses, headers).
function deref(doc, obj, file) {
  let seen = 0;
  while (obj && typeof obj === 'object' && typeof obj.$ref === 'string') {
    obj = pointer(doc, obj.$ref, file);
    if (++seen > 20) throw new Error(`${file}: $ref loop`);
  }
  return obj;
}

// Schemas refer to '#/components/schemas/X'; the compiled copies live in a
// schema registered as DOC_ID, whose $defs are the document's schemas.
function rewriteRefs(node, docId) {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, docId));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      out[k] = `${docId}#/$defs/${v.slice('#/components/schemas/'.length)}`;
    } else {
      out[k] = rewriteRefs(v, docId);
    }
  }
  return out;
}

function templateRegex(template) {
  const names = [];
  const src = template.split('/').map((seg) => {
    const m = /^\{([^}]+)\}$/.exec(seg);
    if (m) { names.push(m[1]); return '([^/]+)'; }
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('/');
  return { re: new RegExp(`^${src}$`), names };
}

export class Contract {
  constructor(file) {
    this.file = file;
    this.doc = parseYaml(readFileSync(file, 'utf8'));
    const docId = `urn:shopsphere:${file.split('/').pop()}`;
    this.ajv = new Ajv2020({
      allErrors: true, strict: true, strictTypes: false, strictTuples: false,
      allowUnionTypes: true, coerceTypes: false, strictRequired: false,
    });
    addFormats(this.ajv);
    // OpenAPI's own formats and schema keywords (3.1 section 4.8.24).
    for (const f of ['int32', 'int64', 'float', 'double', 'password', 'byte', 'binary']) {
      this.ajv.addFormat(f, true);
    }
    for (const k of ['discriminator', 'xml', 'externalDocs', 'example']) {
      this.ajv.addKeyword(k);
    }
    this.ajv.addSchema({ $id: docId, $defs: rewriteRefs(this.doc.components?.schemas ?? {}, docId) });
    // A second instance coerces parameter strings (query, path, header).
    this.docId = docId;
    this.compiled = new WeakMap();
    this.operations = [];
    for (const [template, item] of Object.entries(this.doc.paths ?? {})) {
      const { re, names } = templateRegex(template);
      const literal = template.split('/').filter((s) => s && !s.startsWith('{')).length;
      // A server's path is the prefix (absolute servers name a host as well).
      const servers = (item.servers ?? this.doc.servers ?? [{ url: '/' }])
        .map((s) => new URL(s.url, 'http://localhost').pathname);
      for (const method of METHODS) {
        if (!item[method]) continue;
        const op = item[method];
        const params = [...(item.parameters ?? []), ...(op.parameters ?? [])]
          .map((p) => deref(this.doc, p, file));
        this.operations.push({
          id: op.operationId ?? `${method.toUpperCase()} ${template}`,
          method: method.toUpperCase(), template, re, names, literal, servers, op, params,
        });
      }
    }
    // The most literal template wins (/users/me before /users/{id}).
    this.operations.sort((a, b) => b.literal - a.literal);
  }

  validator(schema) {
    let v = this.compiled.get(schema);
    if (!v) {
      v = this.ajv.compile(rewriteRefs(schema, this.docId));
      this.compiled.set(schema, v);
    }
    return v;
  }

  // The operation for METHOD and a path relative to the origin.
  match(method, path) {
    let pathMatched = null;
    for (const o of this.operations) {
      for (const server of o.servers) {
        const base = server.replace(/\/$/, '');
        if (base && !path.startsWith(`${base}/`)) continue;
        const rel = path.slice(base.length);
        const m = o.re.exec(rel);
        if (!m) continue;
        const params = {};
        o.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
        if (o.method === method) return { operation: o, params };
        pathMatched ??= o;
      }
    }
    return { operation: null, pathMatched };
  }

  // Does some server of the document cover PATH at all?
  covers(path) {
    const bases = new Set();
    for (const o of this.operations) for (const s of o.servers) bases.add(s.replace(/\/$/, ''));
    return [...bases].some((b) => b && (path === b || path.startsWith(`${b}/`)));
  }
}

// --- checking ------------------------------------------------------------------

function fmtErrors(errors, where) {
  return (errors ?? []).map((e) => {
    let at = e.instancePath || '';
    let msg = e.message;
    if (e.keyword === 'additionalProperties') {
      at += `/${e.params.additionalProperty}`; msg = 'is not in the document (undocumented field)';
    } else if (e.keyword === 'unevaluatedProperties') {
      at += `/${e.params.unevaluatedProperty}`; msg = 'is not in the document (undocumented field)';
    } else if (e.keyword === 'required') {
      at += `/${e.params.missingProperty}`; msg = 'is required by the document but missing';
    }
    return `${where} ${at || '(the whole value)'}: ${msg}`;
  });
}

function coerceParam(value, schema) {
  const types = [].concat(schema?.type ?? []);
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value)) {
    return Number(value);
  }
  if (types.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  if (types.includes('array')) return value.split(',');
  return value;
}

function mediaMatches(docType, actual) {
  if (docType === '*/*') return true;
  if (docType.endsWith('/*')) return actual.startsWith(docType.slice(0, -1));
  return actual === docType;
}

function isJsonType(t) {
  return t === 'application/json' || /^application\/[^;]*\+json$/.test(t);
}

// Checks a request against OPERATION. Returns problems (strings): a request
// the document calls invalid must be refused with a documented 4xx.
function checkRequest(contract, match, req) {
  const { operation: o, params: pathParams } = match;
  const problems = [];
  const url = new URL(req.url);
  const byIn = { path: {}, query: {}, header: {} };
  for (const p of o.params) if (byIn[p.in]) byIn[p.in][p.in === 'header' ? p.name.toLowerCase() : p.name] = p;

  for (const [name, value] of Object.entries(pathParams)) {
    const p = byIn.path[name];
    if (!p) { problems.push(`path parameter ${name} is not in the document`); continue; }
    const v = contract.validator(p.schema ?? {});
    if (!v(coerceParam(value, p.schema))) problems.push(...fmtErrors(v.errors, `path parameter ${name}`));
  }
  const seenQuery = new Set();
  for (const [name, value] of url.searchParams) {
    const p = byIn.query[name];
    if (!p) { problems.push(`query parameter ${name} is not in the document`); continue; }
    if (seenQuery.has(name) && p.schema?.type !== 'array') {
      problems.push(`query parameter ${name} given twice`);
    }
    seenQuery.add(name);
    const v = contract.validator(p.schema ?? {});
    if (!v(coerceParam(value, p.schema))) problems.push(...fmtErrors(v.errors, `query parameter ${name}`));
  }
  for (const p of Object.values(byIn.query)) {
    if (p.required && !url.searchParams.has(p.name)) problems.push(`required query parameter ${p.name} is missing`);
  }
  const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  for (const [name, p] of Object.entries(byIn.header)) {
    if (!(name in headers)) {
      if (p.required) problems.push(`required header ${p.name} is missing`);
      continue;
    }
    const v = contract.validator(p.schema ?? {});
    if (!v(coerceParam(headers[name], p.schema))) problems.push(...fmtErrors(v.errors, `header ${p.name}`));
  }
  // Security: an operation without an anonymous alternative needs a token.
  const security = o.op.security ?? contract.doc.security ?? [];
  const anonymous = security.length === 0 || security.some((s) => Object.keys(s).length === 0);
  if (!anonymous && !/^bearer \S+/i.test(headers.authorization ?? '')) {
    problems.push('no bearer token, and the operation requires one');
  }
  const rb = deref(contract.doc, o.op.requestBody, contract.file);
  const hasBody = req.body !== undefined && req.body !== null && req.body !== '';
  if (!rb) {
    if (hasBody) problems.push('a request body, and the operation documents none');
  } else if (!hasBody) {
    if (rb.required) problems.push('no request body, and the operation requires one');
  } else {
    const ctype = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const media = Object.entries(rb.content ?? {}).find(([t]) => mediaMatches(t, ctype));
    if (!media) {
      problems.push(`request content type "${ctype}" is not in the document`);
    } else if (isJsonType(ctype)) {
      let value;
      try { value = typeof req.body === 'string' ? JSON.parse(req.body) : req.body; } catch {
        problems.push('request body is not valid JSON');
      }
      if (value !== undefined && media[1].schema) {
        const v = contract.validator(media[1].schema);
        if (!v(value)) problems.push(...fmtErrors(v.errors, 'request body'));
      }
    }
  }
  return problems;
}

function findResponse(responses, status) {
  const s = String(status);
  if (responses[s]) return [s, responses[s]];
  const range = `${s[0]}XX`;
  if (responses[range]) return [range, responses[range]];
  if (responses.default) return ['default', responses.default];
  return [null, null];
}

function checkResponse(contract, o, res) {
  const problems = [];
  const [key, raw] = findResponse(o.op.responses ?? {}, res.status);
  if (!key) {
    return [`status ${res.status} is not in the document (documented: ${Object.keys(o.op.responses ?? {}).join(', ')})`];
  }
  const r = deref(contract.doc, raw, contract.file);
  // Headers the document declares: required ones present, all well-typed.
  for (const [name, hRaw] of Object.entries(r.headers ?? {})) {
    const h = deref(contract.doc, hRaw, contract.file);
    const value = res.headers.get(name);
    if (value === null) {
      if (h.required) problems.push(`header ${name} is required by the document but missing`);
      continue;
    }
    if (h.schema) {
      const v = contract.validator(h.schema);
      if (!v(coerceParam(value, h.schema))) problems.push(...fmtErrors(v.errors, `header ${name}`));
    }
  }
  const ctype = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const content = r.content ?? {};
  const hasBody = res.text !== undefined && res.text !== '';
  if (!hasBody) {
    if (Object.keys(content).length && res.method !== 'HEAD') {
      problems.push(`an empty body, and the document gives it content (${Object.keys(content).join(', ')})`);
    }
    return problems;
  }
  if (!Object.keys(content).length) {
    return [...problems, `a body (${ctype || 'no content type'}), and the document gives this answer none`];
  }
  const media = Object.entries(content).find(([t]) => mediaMatches(t, ctype));
  if (!media) {
    return [...problems, `content type "${ctype}" is not in the document (documented: ${Object.keys(content).join(', ')})`];
  }
  if (isJsonType(ctype) && media[1].schema) {
    let value;
    try { value = JSON.parse(res.text); } catch {
      return [...problems, 'body is not valid JSON'];
    }
    const v = contract.validator(media[1].schema);
    if (!v(value)) problems.push(...fmtErrors(v.errors, 'body'));
  } else if (media[1].schema && !isJsonType(ctype)) {
    const v = contract.validator(media[1].schema);
    if (!v(res.text)) problems.push(...fmtErrors(v.errors, 'body'));
  }
  return problems;
}

// The error envelope every unknown route answers with.
function checkUnknownRoute(contract, res, what) {
  if (res.status !== 404 && res.status !== 405) {
    return [`${what}: answered ${res.status}, and the document has no such operation (only 404 or 405 with the error envelope are expected)`];
  }
  const errorSchema = contract.doc.components?.schemas?.Error;
  if (!errorSchema) return [];
  let value;
  try { value = JSON.parse(res.text); } catch { return [`${what}: ${res.status} without a JSON error envelope`]; }
  const v = contract.validator({ $ref: '#/components/schemas/Error' });
  return v(value) ? [] : fmtErrors(v.errors, `${what}: ${res.status} error envelope`);
}

// Checks one exchange. req = {method, url, headers, body (string|object|
// undefined)}, res = {status, headers (a Headers), text}. Returns
// {operation, status, problems}; problems is empty when all is as documented.
export function checkExchange(contract, req, res) {
  const method = req.method.toUpperCase();
  const url = new URL(req.url);
  const path = url.pathname;
  const { operation, params, pathMatched } = contract.match(method, path);
  if (!operation) {
    const what = pathMatched ? `${method} ${path} (the document has ${pathMatched.template}, not this method)` : `${method} ${path}`;
    return { operation: null, problems: checkUnknownRoute(contract, res, what) };
  }
  const label = `${operation.id} (${operation.method} ${operation.template}) answered ${res.status}`;
  const reqProblems = checkRequest(contract, { operation, params }, req);
  const resProblems = checkResponse(contract, operation, { ...res, method });
  const problems = resProblems.map((p) => `${label}: ${p}`);
  if (reqProblems.length && res.status < 400) {
    problems.push(...reqProblems.map((p) => `${label}: the request is invalid by the document, yet it was accepted: ${p}`));
  }
  return { operation, problems };
}

// --- the documents, by where a URL points ------------------------------------------

const cache = new Map();
export function contractFor(name) {
  const file = name.startsWith('/') ? name : `${ROOT}/api/${name}`;
  if (!cache.has(file)) cache.set(file, new Contract(file));
  return cache.get(file);
}
