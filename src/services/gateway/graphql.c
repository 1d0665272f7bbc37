/* graphql.c - GraphQL over HTTP at the edge (POST /graphql, also at
 * /api/v1/graphql): the request's JSON {query, variables, operationName},
 * or a list of them (batched, at most GRAPHQL_BATCH_MAX), runs against the
 * storefront schema (graphql_schema.c) under the same rate limits and CORS
 * as the REST routes. Answers are GraphQL's shape, with the trace id and
 * the number of upstream calls in `extensions`. GET /graphql with ?query=
 * runs a query (never a mutation); GET without one answers GraphiQL (the
 * web build's web/dist/graphiql/, bundled: nothing loaded from elsewhere),
 * or this file's small explorer when the build is missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/graphql.h"
#include "kit/json.h"
#include "services/gateway/gateway.h"

#define GRAPHQL_BATCH_MAX 10

static const char explorer_page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>ShopSphere GraphQL explorer</title>\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<style>body{font:14px system-ui,sans-serif;margin:0;display:grid;"
    "grid-template-columns:1fr 1fr;grid-template-rows:auto 1fr auto;"
    "height:100vh}header{grid-column:1/3;padding:8px 12px;background:#1f2937;"
    "color:#fff;display:flex;gap:12px;align-items:center}textarea,pre{"
    "font:13px ui-monospace,monospace;margin:0;padding:8px;border:0;"
    "border-right:1px solid #ddd;resize:none;overflow:auto}#q{height:100%}"
    "#out{background:#f8fafc}#docs{grid-column:1/3;max-height:30vh;overflow:"
    "auto;padding:8px 12px;border-top:1px solid #ddd}label{display:block}"
    "button{padding:4px 12px}</style></head><body>\n"
    "<header><strong>GraphQL</strong><button id=\"run\">Run</button>"
    "<label>Token <input id=\"token\" size=\"40\" placeholder=\"Bearer token "
    "(optional)\"></label></header>\n"
    "<div style=\"display:grid;grid-template-rows:2fr 1fr\">"
    "<textarea id=\"q\" aria-label=\"Query\">{\n  products(limit: 3) {\n"
    "    items { id name price currency rating_average }\n  }\n}"
    "</textarea><textarea id=\"vars\" aria-label=\"Variables\">{}</textarea>"
    "</div>\n<pre id=\"out\" aria-label=\"Result\"></pre>\n"
    "<div id=\"docs\" aria-label=\"Schema\"></div>\n<script>\n"
    "const $=id=>document.getElementById(id);\n"
    "async function gql(query,variables){const h={'content-type':"
    "'application/json'};const t=$('token').value.trim();if(t)h.authorization="
    "'Bearer '+t.replace(/^Bearer /,'');const r=await fetch('/graphql',{method:"
    "'POST',headers:h,body:JSON.stringify({query,variables})});return "
    "r.json()}\n"
    "$('run').onclick=async()=>{let v={};try{v=JSON.parse($('vars').value||"
    "'{}')}catch(e){$('out').textContent='variables: '+e;return}$('out')."
    "textContent=JSON.stringify(await gql($('q').value,v),null,2)};\n"
    "const ref=t=>t.kind==='NON_NULL'?ref(t.ofType)+'!':t.kind==='LIST'?'['+"
    "ref(t.ofType)+']':t.name;\n"
    "gql('{__schema{types{name kind description fields{name args{name type{"
    "kind name ofType{kind name ofType{kind name ofType{kind name}}}}} type{"
    "kind name ofType{kind name ofType{kind name ofType{kind name}}}}}}}}')."
    "then(r=>{const d=$('docs');for(const t of r.data.__schema.types){if(t."
    "name.startsWith('__')||!t.fields)continue;const s=document.createElement"
    "('details');const m=document.createElement('summary');m.textContent=t."
    "name+(t.description?' — '+t.description:'');s.append(m);const p=document"
    ".createElement('pre');p.textContent=t.fields.map(f=>'  '+f.name+(f.args."
    "length?'('+f.args.map(a=>a.name+': '+ref(a.type)).join(', ')+')':'')+': '"
    "+ref(f.type)).join('\\n');s.append(p);d.append(s)}});\n"
    "</script></body></html>\n";

/* Runs one {query, variables, operationName} object; a new reference. */
static json_t *run_one(struct gateway *gw, struct http_request *req,
                       json_t *body, bool read_only, int *status) {
  struct graphql_request ctx = {.req = req};
  json_t *query = json_object_get(body, "query");
  json_t *variables = json_object_get(body, "variables");
  json_t *name = json_object_get(body, "operationName");
  const char *text = json_string_value(query);
  json_t *result;
  if (!json_is_object(body) || !json_is_string(query) ||
      (name != NULL && !json_is_null(name) && !json_is_string(name))) {
    *status = 400;
    result = json_pack("{s:[{s:s, s:{s:s, s:s}}]}", "errors", "message",
                       "the body must be {query, variables?, operationName?} "
                       "with a string query",
                       "extensions", "code", "VALIDATION_ERROR", "trace_id",
                       req->trace_id);
  } else if (read_only && strstr(text, "mutation") != NULL) {
    *status = 405;
    result = json_pack("{s:[{s:s, s:{s:s, s:s}}]}", "errors", "message",
                       "mutations need POST", "extensions", "code",
                       "METHOD_NOT_ALLOWED", "trace_id", req->trace_id);
  } else {
    result = gql_execute(gw->graphql, text, json_string_length(query),
                         json_is_null(variables) ? NULL : variables,
                         json_string_value(name), &ctx, req->trace_id, status);
  }
  if (result != NULL)
    json_object_set_new(result, "extensions",
                        json_pack("{s:s, s:i}", "trace_id", req->trace_id,
                                  "upstream_calls", ctx.upstream_calls));
  return result;
}

void graphql_handle(struct http_request *req, struct http_response *res) {
  struct gateway *gw = req->svc->state;
  struct edge_ctx ctx;
  bool get = strcmp(req->method, "GET") == 0;
  edge_begin(req, &ctx, get ? RATE_READ : RATE_WRITE);
  if (!edge_admit(req, res, &ctx)) goto finish;
  ctx.upstream = "graphql";

  json_t *answer = NULL;
  int status = 200;
  if (get) {
    const char *query = http_query(req, "query");
    if (query == NULL) {
      /* GraphiQL from the web build; this small explorer until it exists. */
      if (!static_serve_graphiql(req, res))
        http_reply(res, 200, "text/html; charset=utf-8", explorer_page,
                   sizeof explorer_page - 1);
      goto finish;
    }
    json_t *body = json_pack("{s:s}", "query", query);
    const char *vars = http_query(req, "variables");
    if (body != NULL && vars != NULL)
      json_object_set_new(body, "variables", json_loads(vars, 0, NULL));
    answer = run_one(gw, req, body, true, &status);
    json_decref(body);
  } else {
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, 0, &jerr);
    if (body == NULL) {
      status = 400;
      answer = json_pack("{s:[{s:s, s:{s:s, s:s}}]}", "errors", "message",
                         "the body is not valid JSON", "extensions", "code",
                         "GRAPHQL_PARSE_FAILED", "trace_id", req->trace_id);
    } else if (json_is_array(body)) {
      if (json_array_size(body) == 0 ||
          json_array_size(body) > GRAPHQL_BATCH_MAX) {
        status = 400;
        answer =
            json_pack("{s:[{s:s, s:{s:s, s:s}}]}", "errors", "message",
                      "a batch holds 1 to 10 operations", "extensions", "code",
                      "VALIDATION_ERROR", "trace_id", req->trace_id);
      } else {
        answer = json_array();
        size_t i;
        json_t *one;
        json_array_foreach(body, i, one) {
          int one_status;
          json_array_append_new(answer,
                                run_one(gw, req, one, false, &one_status));
        }
      }
    } else {
      answer = run_one(gw, req, body, false, &status);
    }
    json_decref(body);
  }
  char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
  json_decref(answer);
  if (text == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "cannot render the answer",
                     NULL);
    goto finish;
  }
  http_reply_take(res, (unsigned)status, "application/json", text,
                  strlen(text));
  http_response_header(res, "Cache-Control", "no-store");
finish:
  edge_finish(req, res, &ctx);
}
