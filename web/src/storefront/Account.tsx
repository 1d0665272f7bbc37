// Account.tsx - sign in, create an account, order history, one order with
// live tracking (it refreshes until the order is delivered or cancelled).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, login, money, type Order, type Page } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { Link, navigate } from '../shared/router';
import { adoptCart } from './cart';

function next(): string {
  const n = new URLSearchParams(window.location.search).get('next');
  return n && n.startsWith('/') && !n.startsWith('//') ? n : '/';
}

export function SignIn() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: async () => {
      await login(email, password);
      await adoptCart();
    },
    onSuccess: () => { void qc.invalidateQueries(); navigate(next()); },
  });
  return (
    <form aria-label="Sign in" onSubmit={(e: FormEvent) => { e.preventDefault(); m.mutate(); }} style={{ maxWidth: 360 }}>
      <h1>Sign in</h1>
      <label>Email<br /><input type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required /></label>
      <label>Password<br /><input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
      <ErrorNote error={m.error} />
      <button type="submit" disabled={m.isPending}>Sign in</button>
      <p>New here? <Link href={`/register?next=${encodeURIComponent(next())}`}>Create an account</Link></p>
    </form>
  );
}

export function Register() {
  const [f, setF] = useState({ email: '', password: '', first_name: '', last_name: '', username: '' });
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: async () => {
      const username = f.username || f.email.split('@')[0].replace(/[^a-zA-Z0-9_]/g, '_');
      await api('POST', '/users', { ...f, username });
      await login(f.email, f.password);
      await adoptCart();
    },
    onSuccess: () => { void qc.invalidateQueries(); navigate(next()); },
  });
  const field = (k: keyof typeof f, label: string, type = 'text') => (
    <label>{label}<br /><input type={type} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} required={k !== 'username'} /></label>
  );
  return (
    <form aria-label="Create account" onSubmit={(e: FormEvent) => { e.preventDefault(); m.mutate(); }} style={{ maxWidth: 360 }}>
      <h1>Create account</h1>
      {field('email', 'Email', 'email')}
      {field('password', 'Password', 'password')}
      {field('first_name', 'First name')}
      {field('last_name', 'Last name')}
      <ErrorNote error={m.error} />
      <button type="submit" disabled={m.isPending}>Create account</button>
    </form>
  );
}

export function Orders() {
  const q = useQuery({ queryKey: ['orders'], queryFn: () => api<Page<Order>>('GET', '/orders?limit=50') });
  if (q.error) return <ErrorNote error={q.error} />;
  return (
    <section aria-label="Order history">
      <h1>Your orders</h1>
      {(q.data?.items ?? []).length === 0 && q.data ? <p>No orders yet.</p> : null}
      <table>
        <tbody>
          {(q.data?.items ?? []).map((o) => (
            <tr key={o.id}>
              <td><Link href={`/orders/${o.id}`}>Order {o.id.slice(0, 8)}</Link></td>
              <td>{o.created_at ? new Date(o.created_at).toLocaleString() : ''}</td>
              <td>{o.status}</td>
              <td>{money(o.total, o.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

interface Shipment { id: string; status: string; tracking_number?: string; events?: { status: string; occurred_at?: string; description?: string }[] }

const FINAL = new Set(['delivered', 'cancelled', 'refunded']);

export function OrderPage({ id }: { id: string }) {
  const qc = useQueryClient();
  const order = useQuery({
    queryKey: ['order', id], queryFn: () => api<Order>('GET', `/orders/${id}`),
    refetchInterval: (q) => (q.state.data && FINAL.has(q.state.data.status) ? false : 3000),
  });
  const shipments = useQuery({
    queryKey: ['shipments', id], queryFn: () => api<Page<Shipment> | Shipment[]>('GET', `/shipments?order_id=${id}`),
    refetchInterval: () => (order.data && FINAL.has(order.data.status) ? false : 3000), retry: false,
  });
  const cancel = useMutation({
    mutationFn: () => api('POST', `/orders/${id}/cancel`, {}),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['order', id] }),
  });
  if (order.error) return <ErrorNote error={order.error} />;
  const o = order.data;
  if (!o) return <p>Loading…</p>;
  const list = Array.isArray(shipments.data) ? shipments.data : shipments.data?.items ?? [];
  return (
    <section aria-label="Order">
      {new URLSearchParams(window.location.search).get('placed') ? <p className="ok" role="status">Thank you! Your order is {o.status}.</p> : null}
      <h1>Order {o.id.slice(0, 8)}</h1>
      <p>Status: <strong data-testid="order-status">{o.status}</strong></p>
      <table>
        <tbody>
          {o.items.map((l) => <tr key={l.product_id}><td>{l.name}</td><td>× {l.quantity}</td><td>{money(l.line_total, o.currency)}</td></tr>)}
        </tbody>
      </table>
      <p>Subtotal {money(o.subtotal, o.currency)} · Tax {money(o.tax, o.currency)} · Shipping {money(o.shipping, o.currency)}</p>
      <p className="price">Total {money(o.total, o.currency)}</p>
      {list.map((s) => (
        <div key={s.id} className="card">
          <div>Shipment {s.tracking_number ?? s.id.slice(0, 8)}: {s.status}</div>
          <ol>{(s.events ?? []).map((e, i) => <li key={i}>{e.status}{e.description ? `: ${e.description}` : ''}</li>)}</ol>
        </div>
      ))}
      {['pending', 'confirmed', 'processing'].includes(o.status) ? (
        <button className="secondary" onClick={() => cancel.mutate()} disabled={cancel.isPending}>Cancel order</button>
      ) : null}
      <ErrorNote error={cancel.error} />
    </section>
  );
}
