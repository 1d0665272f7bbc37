// AdminApp.tsx - the operator's frame: sign-in, the sections a role may
// use, the dashboard (charts and live figures) and review moderation.
// Admins see every section; moderators only the moderation queue (the API
// refuses them the rest with 403 anyway).
import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, login, money, onAuthChange, signedIn, signOut, type Answer, type ReviewQueue, type User } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { BarChart, HBarChart, LineChart } from './charts';
import { ProductsView } from './Products';
import { OrdersView } from './Orders';
import { PromotionsView } from './Promotions';
import { AuditView, CategoriesView, SynonymsView, UsersView } from './Settings';

function SignInForm() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const qc = useQueryClient();
  const m = useMutation({ mutationFn: () => login(email, password), onSuccess: () => qc.invalidateQueries() });
  return (
    <form aria-label="Sign in" onSubmit={(e: FormEvent) => { e.preventDefault(); m.mutate(); }} className="narrow">
      <h1>ShopSphere admin</h1>
      <label>Email<br /><input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required /></label>
      <label>Password<br /><input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
      <ErrorNote error={m.error} />
      <button type="submit">Sign in</button>
    </form>
  );
}

function DashboardView() {
  const today = new Date();
  const from = new Date(today.getTime() - 13 * 86400_000).toISOString().slice(0, 10);
  const to = new Date(today.getTime() + 86400_000).toISOString().slice(0, 10);
  const d = useQuery({ queryKey: ['dashboard'], queryFn: () => api<Answer<'getDashboard'>>('GET', '/admin/reports/dashboard'), refetchInterval: 5000 });
  const s = useQuery({ queryKey: ['sales', from, to], queryFn: () => api<Answer<'getSalesReport'>>('GET', `/admin/reports/sales?from=${from}&to=${to}&granularity=day`), refetchInterval: 10000 });
  const t = useQuery({ queryKey: ['top', from, to], queryFn: () => api<Answer<'getTopProductsReport'>>('GET', `/admin/reports/top-products?from=${from}&to=${to}&limit=8`), refetchInterval: 10000 });
  const low = useQuery({ queryKey: ['low-stock'], queryFn: () => api<Answer<'getLowStockReport'>>('GET', '/admin/reports/low-stock?limit=8'), refetchInterval: 10000 });
  return (
    <section aria-label="Dashboard">
      <ErrorNote error={d.error ?? s.error ?? t.error ?? low.error} />
      {d.data ? (
        <div className="grid" style={{ gridTemplateColumns: 'repeat(auto-fill, minmax(160px, 1fr))' }} aria-live="polite">
          <div className="card"><div className="muted">Orders today</div><div className="price" data-testid="orders-today">{d.data.orders_today}</div></div>
          <div className="card"><div className="muted">Revenue today</div><div className="price">{money(d.data.revenue_today, d.data.currency)}</div></div>
          <div className="card"><div className="muted">New customers</div><div className="price">{d.data.new_customers_today}</div></div>
          <div className="card"><div className="muted">Pending reviews</div><div className="price">{d.data.pending_reviews}</div></div>
        </div>
      ) : null}
      <div className="grid" style={{ gridTemplateColumns: 'repeat(auto-fill, minmax(320px, 1fr))', marginTop: 12 }}>
        <LineChart title="Sales over time" unit={` ${s.data?.currency ?? ''}`} points={(s.data?.buckets ?? []).map((b) => ({ label: b.start.slice(5, 10), value: Number(b.gross) }))} />
        <HBarChart title="Orders by status" points={Object.entries(d.data?.orders_by_status ?? {}).map(([label, value]) => ({ label, value: Number(value) }))} />
        <HBarChart title="Top products" unit=" units" points={(t.data?.items ?? []).map((i) => ({ label: i.name, value: i.units }))} />
        <HBarChart title="Low stock" unit=" left" points={(low.data?.items ?? []).map((i) => ({ label: `${i.name} (${i.sku})`, value: i.available }))} />
        <BarChart title="Orders, last 24 hours" points={(d.data?.last_24h ?? []).map((h) => ({ label: h.hour.slice(11, 13), value: h.orders }))} />
      </div>
    </section>
  );
}

function ReviewsView() {
  const qc = useQueryClient();
  const [status, setStatus] = useState<'pending' | 'approved' | 'rejected'>('pending');
  const list = useQuery({ queryKey: ['moderation', status], queryFn: () => api<ReviewQueue>('GET', `/admin/reviews?status=${status}`) });
  const decide = useMutation({
    mutationFn: ({ id, action, reason }: { id: string; action: 'approve' | 'reject'; reason?: string }) =>
      api('POST', `/admin/reviews/${id}/${action}`, action === 'reject' ? { reason: reason || 'Does not follow the review guidelines' } : undefined),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['moderation'] }),
  });
  return (
    <section aria-label="Review moderation">
      <label>Show{' '}
        <select value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
          <option value="pending">Waiting for moderation</option>
          <option value="approved">Approved</option>
          <option value="rejected">Rejected</option>
        </select>
      </label>
      <ErrorNote error={list.error ?? decide.error} />
      {(list.data?.items ?? []).length === 0 && list.data ? <p>No reviews here.</p> : null}
      {(list.data?.items ?? []).map((r) => (
        <article key={r.id} className="card" style={{ marginBottom: 8 }} aria-label={`Review ${r.title}`}>
          <strong><span aria-label={`${r.rating} out of 5`}>{'★'.repeat(r.rating)}</span> {r.title}</strong>
          <p>{r.body}</p>
          <p className="muted">{r.author_name}{r.verified_purchase ? ' · verified purchase' : ' · not a verified purchase'}</p>
          {(r.flags ?? []).map((f) => <div key={f.code} className="field-error">Flag: {f.reason}</div>)}
          {r.status !== 'approved' ? <button onClick={() => decide.mutate({ id: r.id, action: 'approve' })}>Approve</button> : null}{' '}
          {r.status !== 'rejected' ? (
            <form style={{ display: 'inline' }} onSubmit={(e: FormEvent<HTMLFormElement>) => {
              e.preventDefault();
              decide.mutate({ id: r.id, action: 'reject', reason: String(new FormData(e.currentTarget).get('reason') ?? '') });
            }}>
              <input name="reason" aria-label={`Reason to reject ${r.title}`} placeholder="Reason" />{' '}
              <button type="submit" className="secondary">Reject</button>
            </form>
          ) : null}
        </article>
      ))}
    </section>
  );
}

const TABS = {
  dashboard: 'Dashboard', products: 'Products', categories: 'Categories', orders: 'Orders', reviews: 'Reviews',
  users: 'Users', synonyms: 'Search synonyms', audit: 'Audit log',
  promotions: 'Promotions',
} as const;
type Tab = keyof typeof TABS;
const ADMIN: Tab[] = ['dashboard', 'products', 'categories', 'orders', 'reviews', 'users', 'synonyms', 'audit'];
ADMIN.splice(ADMIN.indexOf('orders') + 1, 0, 'promotions');
const MODERATOR: Tab[] = ['reviews'];

export function AdminApp() {
  const [isIn, setIn] = useState(signedIn());
  useEffect(() => onAuthChange(() => setIn(signedIn())), []);
  const qc = useQueryClient();
  const me = useQuery({ queryKey: ['me', isIn], queryFn: () => api<User>('GET', '/users/me'), enabled: isIn });
  const role = me.data?.role;
  const allowed: Tab[] = role === 'admin' ? ADMIN : role === 'moderator' ? MODERATOR : [];
  const [tab, setTab] = useState<Tab>('dashboard');
  const current = allowed.includes(tab) ? tab : allowed[0];
  const out = () => { signOut(); qc.clear(); };
  if (!isIn) return <main><SignInForm /></main>;
  if (me.data && allowed.length === 0) return <main><p role="alert" className="error">This account may not use the admin dashboard.</p><button onClick={out}>Sign out</button></main>;
  return (
    <>
      <header className="top admin">
        <strong>ShopSphere admin</strong>
        <nav aria-label="Sections" className="sections">
          {allowed.map((t) => <button key={t} className={t === current ? '' : 'secondary'} aria-current={t === current ? 'page' : undefined} onClick={() => setTab(t)}>{TABS[t]}</button>)}
        </nav>
        <span className="who">
          <span className="email" title={me.data ? `Signed in as ${me.data.email}` : undefined}><span className="sr-only">Signed in as </span>{me.data?.email}{role ? ` (${role})` : ''}</span>
          <button className="secondary" onClick={out}>Sign out</button>
        </span>
      </header>
      <main>
        <ErrorNote error={me.error} />
        {current === 'dashboard' ? <DashboardView /> : null}
        {current === 'products' ? <ProductsView /> : null}
        {current === 'categories' ? <CategoriesView /> : null}
        {current === 'orders' ? <OrdersView /> : null}
        {current === 'reviews' ? <ReviewsView /> : null}
        {current === 'users' ? <UsersView /> : null}
        {current === 'synonyms' ? <SynonymsView /> : null}
        {current === 'audit' ? <AuditView /> : null}
        {current === 'promotions' ? <PromotionsView /> : null}
      </main>
    </>
  );
}
