// AdminApp.tsx - the operator's screens: dashboard with charts, products
// (price edits), review moderation, orders. Admins see all; moderators see
// the moderation queue only.
import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, login, money, onAuthChange, signedIn, signOut, type Order, type Page, type Product } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { BarChart, LineChart } from './charts';

interface Me { id: string; email: string; role: string }
interface Dashboard {
  currency: string; orders_today: number; revenue_today: string; new_customers_today: number; pending_reviews: number;
  orders_by_status: Record<string, number>; last_24h: { hour: string; orders: number; revenue: string }[];
}
interface Sales { currency: string; buckets: { start: string; orders: number; gross: string; net: string }[] }
interface Top { items: { product_id: string; name: string; units: number; revenue: string }[] }
interface AdminReview { id: string; product_id: string; rating: number; title?: string; body?: string; flags?: { code: string; reason: string }[] }

function SignInForm() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const qc = useQueryClient();
  const m = useMutation({ mutationFn: () => login(email, password), onSuccess: () => qc.invalidateQueries() });
  return (
    <form aria-label="Sign in" onSubmit={(e: FormEvent) => { e.preventDefault(); m.mutate(); }} style={{ maxWidth: 360 }}>
      <h1>ShopSphere admin</h1>
      <label>Email<br /><input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required /></label>
      <label>Password<br /><input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
      <ErrorNote error={m.error} />
      <button type="submit">Sign in</button>
    </form>
  );
}

function DashboardView() {
  const today = new Date();
  const from = new Date(today.getTime() - 13 * 86400_000).toISOString().slice(0, 10);
  const to = new Date(today.getTime() + 86400_000).toISOString().slice(0, 10);
  const d = useQuery({ queryKey: ['dashboard'], queryFn: () => api<Dashboard>('GET', '/admin/reports/dashboard'), refetchInterval: 5000 });
  const s = useQuery({ queryKey: ['sales', from, to], queryFn: () => api<Sales>('GET', `/admin/reports/sales?from=${from}&to=${to}&granularity=day`), refetchInterval: 10000 });
  const t = useQuery({ queryKey: ['top', from, to], queryFn: () => api<Top>('GET', `/admin/reports/top-products?from=${from}&to=${to}&limit=8`), refetchInterval: 10000 });
  return (
    <section aria-label="Dashboard">
      <ErrorNote error={d.error ?? s.error ?? t.error} />
      {d.data ? (
        <div className="grid" style={{ gridTemplateColumns: 'repeat(auto-fill, minmax(160px, 1fr))' }}>
          <div className="card"><div className="muted">Orders today</div><div className="price" data-testid="orders-today">{d.data.orders_today}</div></div>
          <div className="card"><div className="muted">Revenue today</div><div className="price">{money(d.data.revenue_today, d.data.currency)}</div></div>
          <div className="card"><div className="muted">New customers</div><div className="price">{d.data.new_customers_today}</div></div>
          <div className="card"><div className="muted">Pending reviews</div><div className="price">{d.data.pending_reviews}</div></div>
        </div>
      ) : null}
      <div className="grid" style={{ gridTemplateColumns: 'repeat(auto-fill, minmax(320px, 1fr))', marginTop: 12 }}>
        <LineChart title="Sales over time" unit={` ${s.data?.currency ?? ''}`} points={(s.data?.buckets ?? []).map((b) => ({ label: b.start.slice(5, 10), value: Number(b.gross) }))} />
        <BarChart title="Orders by status" points={Object.entries(d.data?.orders_by_status ?? {}).map(([label, value]) => ({ label, value }))} />
        <BarChart title="Top products" unit=" units" points={(t.data?.items ?? []).map((i) => ({ label: i.name, value: i.units }))} />
        <BarChart title="Orders, last 24 hours" points={(d.data?.last_24h ?? []).map((h) => ({ label: h.hour.slice(11, 13), value: h.orders }))} />
      </div>
    </section>
  );
}

function ProductsView() {
  const [q, setQ] = useState('');
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['admin-products', q], queryFn: () => api<Page<Product>>('GET', `/products?limit=50&sort=newest${q ? `&q=${encodeURIComponent(q)}` : ''}`) });
  const save = useMutation({
    mutationFn: ({ id, price }: { id: string; price: string }) => api('PATCH', `/products/${id}`, { price }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['admin-products'] }),
  });
  const items = (list.data?.items ?? []).filter((p) => !q || p.name.toLowerCase().includes(q.toLowerCase()) || p.sku.toLowerCase().includes(q.toLowerCase()));
  return (
    <section aria-label="Products">
      <label>Find a product <input value={q} onChange={(e) => setQ(e.target.value)} /></label>
      <ErrorNote error={list.error ?? save.error} />
      <table>
        <thead><tr><th>SKU</th><th>Name</th><th>Stock</th><th>Status</th><th>Price</th></tr></thead>
        <tbody>
          {items.map((p) => (
            <tr key={p.id}>
              <td>{p.sku}</td><td>{p.name}</td><td>{p.stock}</td><td>{p.status}</td>
              <td>
                <form onSubmit={(e: FormEvent<HTMLFormElement>) => { e.preventDefault(); const v = new FormData(e.currentTarget).get('price'); save.mutate({ id: p.id, price: String(v) }); }}>
                  <input name="price" aria-label={`Price of ${p.name}`} defaultValue={p.price} size={8} /> {p.currency}{' '}
                  <button type="submit" className="secondary">Save</button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function ReviewsView() {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['moderation'], queryFn: () => api<Page<AdminReview>>('GET', '/admin/reviews?status=pending') });
  const decide = useMutation({
    mutationFn: ({ id, action }: { id: string; action: 'approve' | 'reject' }) =>
      api('POST', `/admin/reviews/${id}/${action}`, action === 'reject' ? { reason: 'Does not follow the review guidelines' } : {}),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['moderation'] }),
  });
  return (
    <section aria-label="Review moderation">
      <ErrorNote error={list.error ?? decide.error} />
      {(list.data?.items ?? []).length === 0 && list.data ? <p>No reviews wait for moderation.</p> : null}
      {(list.data?.items ?? []).map((r) => (
        <div key={r.id} className="card" style={{ marginBottom: 8 }}>
          <strong>{'★'.repeat(r.rating)} {r.title}</strong>
          <p>{r.body}</p>
          {(r.flags ?? []).map((f) => <div key={f.code} className="field-error">Flag: {f.reason}</div>)}
          <button onClick={() => decide.mutate({ id: r.id, action: 'approve' })}>Approve</button>{' '}
          <button className="secondary" onClick={() => decide.mutate({ id: r.id, action: 'reject' })}>Reject</button>
        </div>
      ))}
    </section>
  );
}

function OrdersView() {
  const list = useQuery({ queryKey: ['admin-orders'], queryFn: () => api<Page<Order>>('GET', '/orders?limit=50') });
  return (
    <section aria-label="Orders">
      <ErrorNote error={list.error} />
      <table>
        <thead><tr><th>Order</th><th>Placed</th><th>Status</th><th>Total</th></tr></thead>
        <tbody>{(list.data?.items ?? []).map((o) => (
          <tr key={o.id}><td>{o.id.slice(0, 8)}</td><td>{o.created_at ? new Date(o.created_at).toLocaleString() : ''}</td><td>{o.status}</td><td>{money(o.total, o.currency)}</td></tr>
        ))}</tbody>
      </table>
    </section>
  );
}

const TABS = { dashboard: 'Dashboard', products: 'Products', orders: 'Orders', reviews: 'Reviews' } as const;
type Tab = keyof typeof TABS;

export function AdminApp() {
  const [isIn, setIn] = useState(signedIn());
  useEffect(() => onAuthChange(() => setIn(signedIn())), []);
  const me = useQuery({ queryKey: ['me', isIn], queryFn: () => api<Me>('GET', '/users/me'), enabled: isIn });
  const role = me.data?.role;
  const allowed: Tab[] = role === 'admin' ? ['dashboard', 'products', 'orders', 'reviews'] : role === 'moderator' ? ['reviews'] : [];
  const [tab, setTab] = useState<Tab>('dashboard');
  const current = allowed.includes(tab) ? tab : allowed[0];
  if (!isIn) return <main><SignInForm /></main>;
  if (me.data && allowed.length === 0) return <main><p role="alert" className="error">This account may not use the admin dashboard.</p><button onClick={signOut}>Sign out</button></main>;
  return (
    <>
      <header className="top">
        <strong>ShopSphere admin</strong>
        <nav aria-label="Sections" style={{ display: 'flex', gap: 8 }}>
          {allowed.map((t) => <button key={t} className={t === current ? '' : 'secondary'} aria-current={t === current ? 'page' : undefined} onClick={() => setTab(t)}>{TABS[t]}</button>)}
        </nav>
        <span className="grow" />
        <span>{me.data?.email}</span>
        <button className="secondary" onClick={signOut}>Sign out</button>
      </header>
      <main>
        <ErrorNote error={me.error} />
        {current === 'dashboard' ? <DashboardView /> : null}
        {current === 'products' ? <ProductsView /> : null}
        {current === 'orders' ? <OrdersView /> : null}
        {current === 'reviews' ? <ReviewsView /> : null}
      </main>
    </>
  );
}
