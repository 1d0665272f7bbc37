// Account.tsx - sign in, create an account, forgotten password (the mailed
// link), the account page (profile, addresses, notification preferences,
// sign out), order history and
// one order with live tracking (it refreshes until the order is delivered
// or cancelled), cancelled where the API allows it.
import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  ApiError, api, login, money, shortId, signOut,
  type Address, type Order, type Page, type Shipment, type StoredAddress, type User,
} from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { Link, navigate } from '../shared/router';
import { adoptCart, forgetCart } from './cart';
import { NotificationPreferences } from './NotificationPreferences';

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
    <form aria-label="Sign in" onSubmit={(e: FormEvent) => { e.preventDefault(); m.mutate(); }} className="narrow">
      <h1>Sign in</h1>
      <label>Email<br /><input type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required /></label>
      <label>Password<br /><input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
      <ErrorNote error={m.error} />
      <button type="submit" disabled={m.isPending}>Sign in</button>
      <p><Link href="/forgot-password">Forgot your password?</Link></p>
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
  const field = (k: keyof typeof f, label: string, type = 'text', auto = 'off') => (
    <label>{label}<br /><input type={type} autoComplete={auto} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} required={k !== 'username'} /></label>
  );
  return (
    <form aria-label="Create account" onSubmit={(e: FormEvent) => { e.preventDefault(); m.mutate(); }} className="narrow">
      <h1>Create account</h1>
      {field('email', 'Email', 'email', 'email')}
      {field('password', 'Password', 'password', 'new-password')}
      {field('first_name', 'First name', 'text', 'given-name')}
      {field('last_name', 'Last name', 'text', 'family-name')}
      <ErrorNote error={m.error} />
      <button type="submit" disabled={m.isPending}>Create account</button>
    </form>
  );
}

export function ForgotPassword() {
  const [email, setEmail] = useState('');
  const m = useMutation({ mutationFn: () => api('POST', '/auth/password-reset', { email }) });
  return (
    <form aria-label="Reset password" onSubmit={(e: FormEvent) => { e.preventDefault(); m.mutate(); }} className="narrow">
      <h1>Forgot your password?</h1>
      <p>We e-mail you a link to choose a new one.</p>
      <label>Email<br /><input type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required /></label>
      <ErrorNote error={m.error} />
      {m.isSuccess ? <p className="ok" role="status">If an account uses {email}, a reset link is on its way. Check your inbox.</p> : null}
      <button type="submit" disabled={m.isPending}>Send the reset link</button>
    </form>
  );
}

export function ResetPassword({ url }: { url: URL }) {
  const token = url.searchParams.get('token') ?? '';
  const [password, setPassword] = useState('');
  const m = useMutation({ mutationFn: () => api('POST', '/auth/password-reset/confirm', { token, new_password: password }) });
  if (!token) return <p>This reset link is incomplete. <Link href="/forgot-password">Ask for a new one</Link>.</p>;
  return (
    <form aria-label="Choose a new password" onSubmit={(e: FormEvent) => { e.preventDefault(); m.mutate(); }} className="narrow">
      <h1>Choose a new password</h1>
      <label>New password<br /><input type="password" autoComplete="new-password" minLength={10} value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
      <ErrorNote error={m.error} />
      {m.isSuccess ? <p className="ok" role="status">Your password is changed. <Link href="/signin">Sign in</Link> with it.</p> : null}
      <button type="submit" disabled={m.isPending || m.isSuccess}>Change password</button>
    </form>
  );
}

// --- the account page ------------------------------------------------------

function Profile() {
  const qc = useQueryClient();
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<User>('GET', '/users/me') });
  const save = useMutation({
    mutationFn: (patch: Record<string, string>) => api<User>('PATCH', '/users/me', patch),
    onSuccess: (u) => qc.setQueryData(['me'], u),
  });
  if (me.error) return <ErrorNote error={me.error} />;
  const u = me.data;
  if (!u) return <p>Loading…</p>;
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const d = new FormData(e.currentTarget);
    const patch: Record<string, string> = {};
    for (const k of ['first_name', 'last_name', 'phone'] as const) {
      const v = String(d.get(k) ?? '');
      if (v !== (u[k] ?? '')) patch[k] = v;
    }
    save.mutate(patch);
  };
  const err = save.error instanceof ApiError ? save.error : null;
  return (
    <form aria-label="Profile" onSubmit={onSubmit} className="card" key={u.updated_at ?? u.id}>
      <h2>Profile</h2>
      <p>{u.email} · {u.username}</p>
      {([['first_name', 'First name', 'given-name'], ['last_name', 'Last name', 'family-name'], ['phone', 'Phone', 'tel']] as const).map(([k, label, auto]) => (
        <label key={k}>{label}<br /><input name={k} autoComplete={auto} defaultValue={u[k] ?? ''} aria-invalid={err?.details === k} /></label>
      ))}
      <ErrorNote error={save.error} />
      {save.isSuccess ? <p className="ok" role="status">Profile saved.</p> : null}
      <button type="submit" disabled={save.isPending}>Save profile</button>
    </form>
  );
}

const ADDRESS_FIELDS: [keyof Address, string, boolean, string][] = [
  ['first_name', 'First name', false, 'given-name'], ['last_name', 'Last name', false, 'family-name'],
  ['line1', 'Address line 1', true, 'address-line1'], ['line2', 'Address line 2', false, 'address-line2'],
  ['city', 'City', true, 'address-level2'], ['state', 'State', false, 'address-level1'],
  ['postal_code', 'Postal code', true, 'postal-code'], ['country', 'Country', true, 'country'],
];

function Addresses() {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['addresses'], queryFn: () => api<{ items: StoredAddress[] }>('GET', '/users/me/addresses') });
  const add = useMutation({
    mutationFn: (a: Address) => api<StoredAddress>('POST', '/users/me/addresses', a),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['addresses'] }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api('DELETE', `/users/me/addresses/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['addresses'] }),
  });
  const err = add.error instanceof ApiError ? add.error : null;
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const d = new FormData(e.currentTarget);
    const a: Record<string, string> = {};
    for (const [k] of ADDRESS_FIELDS) {
      const v = String(d.get(k) ?? '').trim();
      if (v) a[k] = v;
    }
    const form = e.currentTarget;
    add.mutate(a as unknown as Address, { onSuccess: () => form.reset() });
  };
  return (
    <section aria-labelledby="addresses" className="card">
      <h2 id="addresses">Addresses</h2>
      <ErrorNote error={list.error ?? remove.error} />
      {(list.data?.items ?? []).length === 0 && list.data ? <p className="muted">No saved addresses.</p> : null}
      <ul className="plain">
        {(list.data?.items ?? []).map((a) => (
          <li key={a.id}>
            {[a.first_name, a.last_name].filter(Boolean).join(' ')} {a.line1}, {a.postal_code} {a.city}, {a.country}{' '}
            <button className="secondary" aria-label={`Remove the address ${a.line1}`} onClick={() => remove.mutate(a.id)}>Remove</button>
          </li>
        ))}
      </ul>
      <form aria-label="New address" onSubmit={onSubmit}>
        <h3>Add an address</h3>
        <div className="fields">
          {ADDRESS_FIELDS.map(([k, label, req, auto]) => (
            <label key={k}>{label}{req ? ' *' : ''}<br />
              <input name={k} autoComplete={auto} required={req} aria-invalid={err?.details === k} />
              {err?.details === k ? <span className="field-error">{err.message}</span> : null}
            </label>
          ))}
        </div>
        {err && !ADDRESS_FIELDS.some(([k]) => err.details === k) ? <ErrorNote error={err} /> : null}
        <button type="submit" disabled={add.isPending}>Save address</button>
      </form>
    </section>
  );
}

export function AccountPage() {
  const qc = useQueryClient();
  return (
    <section aria-label="Account">
      <h1>Your account</h1>
      <p><Link href="/orders">Your orders</Link> · <Link href="/notifications">Notifications</Link></p>
      <div className="two">
        <Profile />
        <Addresses />
      </div>
      <NotificationPreferences />
      <p>
        <button className="secondary" onClick={() => { signOut(); forgetCart(); qc.clear(); navigate('/'); }}>Sign out</button>
      </p>
    </section>
  );
}

// --- orders ----------------------------------------------------------------

export function Orders() {
  const q = useQuery({ queryKey: ['orders'], queryFn: () => api<Page<Order>>('GET', '/orders?limit=50') });
  if (q.error) return <ErrorNote error={q.error} />;
  return (
    <section aria-label="Order history">
      <h1>Your orders</h1>
      {(q.data?.items ?? []).length === 0 && q.data ? <p>No orders yet.</p> : null}
      <div className="scroll">
        <table>
          <tbody>
            {(q.data?.items ?? []).map((o) => (
              <tr key={o.id}>
                <td><Link href={`/orders/${o.id}`}>Order {shortId(o.id)}</Link></td>
                <td>{o.created_at ? new Date(o.created_at).toLocaleString() : ''}</td>
                <td>{o.status}</td>
                <td>{money(o.total, o.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const FINAL = new Set(['delivered', 'cancelled', 'refunded']);
/** Where the owner may cancel (docs/checkout.md): before shipping. */
const CANCELLABLE = new Set(['confirmed', 'processing']);

export function OrderPage({ id }: { id: string }) {
  const qc = useQueryClient();
  const order = useQuery({
    queryKey: ['order', id], queryFn: () => api<Order>('GET', `/orders/${id}`),
    refetchInterval: (q) => (q.state.data && FINAL.has(q.state.data.status) ? false : 3000),
  });
  const shipments = useQuery({
    queryKey: ['shipments', id], queryFn: () => api<Page<Shipment>>('GET', `/shipments?order_id=${id}`),
    refetchInterval: () => (order.data && FINAL.has(order.data.status) ? false : 3000), retry: false,
  });
  // A new status (shipped, delivered) brings its shipment news: fetch them.
  const status = order.data?.status;
  useEffect(() => { if (status) void qc.invalidateQueries({ queryKey: ['shipments', id] }); }, [qc, id, status]);
  const [asked, setAsked] = useState(false);
  const cancel = useMutation({
    mutationFn: () => api<Order>('POST', `/orders/${id}/cancel`),
    onSuccess: (o) => { qc.setQueryData(['order', id], o); setAsked(false); },
  });
  if (order.error) return <ErrorNote error={order.error} />;
  const o = order.data;
  if (!o) return <p>Loading…</p>;
  const list = shipments.data?.items ?? [];
  return (
    <section aria-label="Order">
      {new URLSearchParams(window.location.search).get('placed') ? <p className="ok" role="status">Thank you! Your order is {o.status}.</p> : null}
      <h1>Order {shortId(o.id)}</h1>
      <p>Status: <strong data-testid="order-status" aria-live="polite">{o.status}</strong></p>
      <div className="scroll">
        <table>
          <tbody>
            {o.items.map((l) => <tr key={`${l.product_id}-${l.variant_id ?? ''}`}><td><Link href={`/products/${l.product_id}`}>{l.name}</Link></td><td>× {l.quantity}</td><td>{money(l.line_total, o.currency)}</td></tr>)}
          </tbody>
        </table>
      </div>
      <p>Subtotal {money(o.subtotal, o.currency)} · Tax {money(o.tax, o.currency)} · Shipping {money(o.shipping, o.currency)}</p>
      <p className="price">Total {money(o.total, o.currency)}</p>
      {list.map((s) => (
        <section key={s.id} className="card" aria-label={`Shipment ${s.tracking_number ?? ''}`.trim()}>
          <div>Shipment {s.tracking_number ?? shortId(s.id)}: <strong>{s.status.replace(/_/g, ' ')}</strong></div>
          <ol>{s.events.map((e, i) => <li key={i}>{e.status.replace(/_/g, ' ')}{e.description ? `: ${e.description}` : ''}{e.occurred_at ? ` (${new Date(e.occurred_at).toLocaleString()})` : ''}</li>)}</ol>
        </section>
      ))}
      <details>
        <summary>History</summary>
        <ol>{o.status_history.map((h, i) => <li key={i}>{h.status}{h.reason ? `: ${h.reason}` : ''} ({new Date(h.at).toLocaleString()})</li>)}</ol>
      </details>
      {CANCELLABLE.has(o.status) ? (
        asked ? (
          <p role="alert">Cancel this order? The payment is released and nothing is shipped.{' '}
            <button onClick={() => cancel.mutate()} disabled={cancel.isPending}>Yes, cancel the order</button>{' '}
            <button className="secondary" onClick={() => setAsked(false)}>Keep it</button></p>
        ) : <button className="secondary" onClick={() => setAsked(true)}>Cancel order</button>
      ) : null}
      {o.status === 'cancelled' && o.cancel_reason ? <p>Cancelled: {o.cancel_reason}</p> : null}
      <ErrorNote error={cancel.error} />
    </section>
  );
}
