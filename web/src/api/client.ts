// client.ts - the one module both apps use to talk to /api/v1.
//
// Tokens: the access token (15 minutes) lives only in memory, so a script
// injected into the page cannot read it from storage after a reload; the
// refresh token lives in sessionStorage (this tab only, gone when it
// closes) and buys a new access token on reload or expiry (docs/web.md).
// Every error is an ApiError carrying the API's code, message and trace id,
// so pages can show them instead of a blank screen.

export const API = '/api/v1';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: string | null,
    public traceId: string | null,
  ) {
    super(message);
  }
}

const REFRESH_KEY = 'shopsphere.refresh';
let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

export function onAuthChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
function changed() {
  for (const fn of listeners) fn();
}

export function signedIn(): boolean {
  return accessToken !== null || sessionStorage.getItem(REFRESH_KEY) !== null;
}

interface Tokens {
  access_token: string;
  refresh_token: string;
}

function keep(t: Tokens) {
  accessToken = t.access_token;
  sessionStorage.setItem(REFRESH_KEY, t.refresh_token);
  changed();
}

export function signOut() {
  const refresh = sessionStorage.getItem(REFRESH_KEY);
  accessToken = null;
  sessionStorage.removeItem(REFRESH_KEY);
  changed();
  if (refresh) void raw('POST', '/auth/logout', { refresh_token: refresh }).catch(() => undefined);
}

async function refresh(): Promise<boolean> {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (!token) return false;
  refreshing ??= raw<Tokens>('POST', '/auth/refresh', { refresh_token: token })
    .then((t) => {
      keep(t);
      return true;
    })
    .catch(() => {
      accessToken = null;
      sessionStorage.removeItem(REFRESH_KEY);
      changed();
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

async function raw<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const h: Record<string, string> = { accept: 'application/json', ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (accessToken) h.authorization = `Bearer ${accessToken}`;
  const res = await fetch(`${API}${path}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const envelope = (json ?? {}) as { error?: { code?: string; message?: string; details?: string }; trace_id?: string };
    throw new ApiError(
      res.status,
      envelope.error?.code ?? 'INTERNAL_ERROR',
      envelope.error?.message ?? `the server answered ${res.status}`,
      envelope.error?.details ?? null,
      envelope.trace_id ?? res.headers.get('traceparent')?.split('-')[1] ?? null,
    );
  }
  return json as T;
}

/** Calls the API; a 401 with a refresh token left refreshes once and retries. */
export async function api<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  if (!accessToken && sessionStorage.getItem(REFRESH_KEY)) await refresh();
  try {
    return await raw<T>(method, path, body, headers);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && (await refresh())) return raw<T>(method, path, body, headers);
    throw e;
  }
}

export async function login(email: string, password: string): Promise<void> {
  keep(await raw<Tokens>('POST', '/auth/login', { email, password }));
}

// --- the shapes the apps read: generated from api/openapi.yaml ---------------
// web/api/schema.d.ts is written by openapi-typescript (scripts/api-check.sh
// --fix-types); never copy a shape here by hand (docs/api.md).
import type { components } from '../../api/schema';

type Schemas = components['schemas'];
type Catalog = Schemas['Product'];
type Essential = 'id' | 'sku' | 'name' | 'price' | 'currency';

export type Attributes = Schemas['ProductAttributes'];
/** One product's detail (GET /products/{id}). */
export type ProductDetail = Catalog;
/** A product as any list renders it: the catalog, search (with `score`) or
 *  recommendations (with `score` and `reason`). */
export type Product = Pick<Catalog, Essential> &
  Partial<Omit<Catalog, Essential>> & {
    score?: number;
    reason?: Schemas['RecommendationItem']['reason'];
  };
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}
export type Category = Schemas['Category'];
export type CartLine = Schemas['CartItem'];
export type Cart = Schemas['Cart'];
export type Address = Schemas['Address'];
export type OrderLine = Schemas['OrderLine'];
export type Order = Schemas['Order'];
export type Review = Schemas['Review'];
export type ReviewPage = Schemas['ReviewList'];
export type SearchAnswer = Schemas['SearchResult'];

export const money = (amount: string | undefined | null, currency: string | undefined | null) =>
  amount == null ? '' : `${currency ?? ''} ${amount}`.trim();

// A short name for an id in lists and headings: its last 8 hex digits. Our
// ids are UUIDv7, whose first digits are the creation time (the same for
// every id made within a minute); the last ones are random.
export const shortId = (id: string) => id.slice(-8);
export type User = Schemas['User'];
export type UserPatch = Schemas['UserPatch'];
export type StoredAddress = Schemas['StoredAddress'];
export type Shipment = Schemas['Shipment'];
export type Notification = Schemas['Notification'];
export type OrderStatus = Schemas['OrderStatus'];
export type Role = Schemas['Role'];
export type AuditEntry = Schemas['AuditEntry'];
export type SynonymGroups = Schemas['SynonymGroups'];
export type ProductCreate = Schemas['ProductCreate'];
export type ReviewCreate = Schemas['ReviewCreate'];

/**
 * Follows the signed-in user's live notifications (GET /notifications/stream,
 * server-sent events). EventSource cannot send the Authorization header, so
 * this reads the stream with fetch and parses the frames; it reconnects
 * after the server's `retry` (3 s) until `signal` aborts. `onOpen` runs on
 * each (re)connection, so the caller can read the feed for what it missed.
 */
export async function followNotifications(onItem: (n: Notification) => void, onOpen: () => void, signal: AbortSignal): Promise<void> {
  let wait = 3000;
  while (!signal.aborted) {
    try {
      if (!accessToken && !(await refresh())) return;
      const res = await fetch(`${API}/notifications/stream`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${accessToken}` }, signal,
      });
      if (res.status === 401) {
        if (!(await refresh())) return;
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      onOpen();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let end;
        while ((end = buf.search(/\r?\n\r?\n/)) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end).replace(/^\r?\n\r?\n/, '');
          let event = 'message';
          const data: string[] = [];
          for (const line of frame.split(/\r?\n/)) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            else if (line.startsWith('retry:')) wait = Number(line.slice(6)) || wait;
          }
          if (event === 'notification' && data.length) {
            try { onItem(JSON.parse(data.join('\n')) as Notification); } catch { /* a frame we cannot read */ }
          }
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

import type { operations } from '../../api/schema';
/** The JSON an operation answers with the given status (generated types). */
export type Answer<Op extends keyof operations, S extends number = 200> =
  operations[Op]['responses'] extends Record<S, { content: { 'application/json': infer T } }> ? T : never;
export type UserList = Schemas['UserList'];
export type ReviewQueue = Schemas['ReviewQueue'];
export type CategoryNode = Schemas['CategoryNode'];
/** The category tree (GET /categories), one query for every page. */
export const categoriesQuery = {
  queryKey: ['categories'],
  queryFn: () => api<Answer<'listCategories'>>('GET', '/categories'),
};
/** The tree's nodes, parents before their children. */
export function flattenCategories(nodes: CategoryNode[]): CategoryNode[] {
  return nodes.flatMap((c) => [c, ...flattenCategories(c.children)]);
}
