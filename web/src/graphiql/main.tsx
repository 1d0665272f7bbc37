// GraphiQL at GET /graphql (docs/graphql.md): the gateway serves this page
// (web/graphiql/index.html, built into web/dist/graphiql/) when the web
// build exists. Everything is bundled (Monaco and its workers included): it
// loads nothing from elsewhere. Requests go to POST /graphql on this origin;
// a bearer token goes in GraphiQL's headers editor, e.g.
// {"authorization": "Bearer ..."}.
import { GraphiQL } from 'graphiql';
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { createRoot } from 'react-dom/client';

type Params = { query: string; variables?: unknown; operationName?: string | null };
type Options = { headers?: Record<string, unknown> };

async function fetcher(params: Params, options?: Options): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(options?.headers ?? {})) {
    if (typeof v === 'string') headers[k.toLowerCase()] = v;
  }
  const res = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify(params),
    credentials: 'same-origin',
  });
  return res.json();
}

const initialQuery = `# ShopSphere's storefront API. Ctrl-Enter runs the query.
query Products {
  products(limit: 5) {
    items { id name price currency rating_average category { name } }
  }
}
`;

// A link may carry the query to open: /graphql#query=<URL-encoded query>
// (the fragment: ?query= at /graphql runs the query, per GraphQL over HTTP).
const shared = new URLSearchParams(window.location.hash.slice(1)).get('query');

const root = document.getElementById('graphiql');
if (root) {
  createRoot(root).render(
    <GraphiQL fetcher={fetcher} defaultQuery={initialQuery} initialQuery={shared ?? undefined} />,
  );
}
