// check-document.mjs - what the linter does not check but our contract
// needs: every object schema says whether it is closed. An object schema
// must declare `additionalProperties` or `unevaluatedProperties` (false for
// a record, a schema or true for a free-form map), so an undocumented field
// in an answer fails the system tests instead of slipping through. Schemas
// meant to be extended (`$ref`'d by a schema that closes them with
// `unevaluatedProperties: false`) are named in their `description` as such
// and are only used that way.
//
// Usage: node tests/contract/check-document.mjs [api/openapi.yaml ...]
// Exit status 1 when a document has a problem; each is printed with its
// JSON pointer.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './contract.mjs';

const COMPOSED = new Set(['allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else']);

export function documentProblems(doc) {
  const problems = [];
  const schemas = doc.components?.schemas ?? {};
  // Schemas that are $ref'd next to unevaluatedProperties: false (bases).
  const bases = new Set();
  const findBases = (node) => {
    if (Array.isArray(node)) { node.forEach(findBases); return; }
    if (!node || typeof node !== 'object') return;
    if (typeof node.$ref === 'string' && node.unevaluatedProperties === false) {
      bases.add(node.$ref.replace('#/components/schemas/', ''));
    }
    Object.values(node).forEach(findBases);
  };
  findBases(doc);

  const isObjectSchema = (s) => {
    const types = [].concat(s.type ?? []);
    return types.includes('object') || s.properties !== undefined;
  };
  const walk = (s, at, insideBase) => {
    if (!s || typeof s !== 'object' || Array.isArray(s)) return;
    if (isObjectSchema(s) && !insideBase && !('additionalProperties' in s) && !('unevaluatedProperties' in s)) {
      problems.push(`${at}: an object schema without additionalProperties or unevaluatedProperties (say whether it is closed)`);
    }
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${at}/properties/${k}`, false);
    if (s.items) walk(s.items, `${at}/items`, false);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      walk(s.additionalProperties, `${at}/additionalProperties`, false);
    }
    for (const k of COMPOSED) {
      if (Array.isArray(s[k])) s[k].forEach((x, i) => walk(x, `${at}/${k}/${i}`, false));
      else if (s[k]) walk(s[k], `${at}/${k}`, false);
    }
  };
  for (const [name, s] of Object.entries(schemas)) {
    walk(s, `#/components/schemas/${name}`, bases.has(name));
  }
  // Inline schemas of parameters, bodies, responses and headers.
  const visit = (node, at) => {
    if (Array.isArray(node)) { node.forEach((n, i) => visit(n, `${at}/${i}`)); return; }
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'schema' && v && typeof v === 'object') walk(v, `${at}/schema`, false);
      else visit(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
  };
  visit(doc.paths ?? {}, '#/paths');
  visit({ parameters: doc.components?.parameters, responses: doc.components?.responses,
    headers: doc.components?.headers, requestBodies: doc.components?.requestBodies }, '#/components');
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : ['api/openapi.yaml', 'api/sandbox.yaml', 'api/sandbox-mail.yaml'];
  let bad = 0;
  for (const f of files) {
    const path = f.startsWith('/') ? f : `${ROOT}/${f}`;
    const problems = documentProblems(parseYaml(readFileSync(path, 'utf8')));
    for (const p of problems) console.error(`${f}: ${p}`);
    bad += problems.length;
    if (!problems.length) console.log(`${f}: every object schema says whether it is closed`);
  }
  process.exit(bad ? 1 : 0);
}
