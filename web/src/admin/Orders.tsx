// Orders.tsx - every order (an admin's GET /orders), filtered by status,
// and one order's detail: lines, addresses, payment, the status history,
// the legal status transitions and refunds (one Idempotency-Key per
// attempt, so a repeated click refunds once).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, money, shortId, type Answer, type Order, type OrderStatus, type Page, type Shipment } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';

/** What an admin may move an order to from each status (docs/checkout.md). */
const NEXT: Partial<Record<OrderStatus, OrderStatus[]>> = {
  confirmed: ['processing', 'shipped', 'cancelled'],
  processing: ['shipped', 'cancelled'],
  shipped: ['delivered'],
};

function OrderDetail({ id, onBack }: { id: string; onBack: () => void }) {
  const qc = useQueryClient();
  const order = useQuery({ queryKey: ['admin-order', id], queryFn: () => api<Order>('GET', `/orders/${id}`), refetchInterval: 5000 });
  const shipments = useQuery({ queryKey: ['admin-shipments', id], queryFn: () => api<Page<Shipment>>('GET', `/shipments?order_id=${id}`), retry: false });
  const refresh = () => { void qc.invalidateQueries({ queryKey: ['admin-order', id] }); void qc.invalidateQueries({ queryKey: ['admin-orders'] }); void qc.invalidateQueries({ queryKey: ['admin-shipments', id] }); };
  const move = useMutation({ mutationFn: (status: OrderStatus) => api<Order>('PATCH', `/orders/${id}/status`, { status }), onSuccess: refresh });
  const [refundKey, setRefundKey] = useState(() => crypto.randomUUID());
  const refund = useMutation({
    mutationFn: (amount: string) => api<Answer<'refundOrder'>>('POST', `/orders/${id}/refund`, amount ? { amount } : {}, { 'Idempotency-Key': refundKey }),
    onSuccess: () => { setRefundKey(crypto.randomUUID()); refresh(); },
    onError: () => setRefundKey(crypto.randomUUID()),
  });
  if (order.error) return <ErrorNote error={order.error} />;
  const o = order.data;
  if (!o) return <p>Loading…</p>;
  const left = (Number(o.captured_amount ?? 0) - Number(o.refunded_amount ?? 0)).toFixed(2);
  const a = o.shipping_address;
  return (
    <section aria-label={`Order ${shortId(o.id)}`}>
      <button className="secondary" onClick={onBack}>Back to the orders</button>
      <h2>Order {o.id}</h2>
      <p>Status: <strong data-testid="admin-order-status">{o.status}</strong> · placed {o.created_at ? new Date(o.created_at).toLocaleString() : "?"} · customer {o.user_id}</p>
      <div className="scroll">
        <table>
          <thead><tr><th>Product</th><th>Quantity</th><th>Unit</th><th>Total</th></tr></thead>
          <tbody>{o.items.map((l, i) => <tr key={i}><td>{l.name}</td><td>{l.quantity}</td><td>{money(l.unit_price, o.currency)}</td><td>{money(l.line_total, o.currency)}</td></tr>)}</tbody>
        </table>
      </div>
      <p>Subtotal {money(o.subtotal, o.currency)} · Tax {money(o.tax, o.currency)} · Shipping {money(o.shipping, o.currency)} ({o.shipping_method}) · <strong>Total {money(o.total, o.currency)}</strong></p>
      <p>Paid: {money(o.captured_amount ?? '0.00', o.currency)} captured, {money(o.refunded_amount ?? '0.00', o.currency)} refunded{o.payment_method ? ` · ${o.payment_method.brand ?? 'card'} ending ${o.payment_method.last4}` : ''}</p>
      {a ? <p>Ship to: {[a.first_name, a.last_name].filter(Boolean).join(' ')}, {a.line1}, {a.postal_code} {a.city}, {a.country}</p> : null}
      {(shipments.data?.items ?? []).map((s) => <p key={s.id}>Shipment {s.tracking_number ?? s.id}: {s.status.replace(/_/g, ' ')}</p>)}
      <h3>History</h3>
      <ol aria-label="Status history">{o.status_history.map((h, i) => <li key={i}>{h.from ?? 'new'} → {h.status}{h.reason ? ` (${h.reason})` : ''}, {new Date(h.at).toLocaleString()}</li>)}</ol>
      {(NEXT[o.status] ?? []).length ? (
        <div className="toolbar" role="group" aria-label="Change the status">
          {(NEXT[o.status] ?? []).map((s) => <button key={s} className={s === 'cancelled' ? 'secondary' : ''} onClick={() => move.mutate(s)} disabled={move.isPending}>Mark {s}</button>)}
        </div>
      ) : null}
      <ErrorNote error={move.error} />
      {Number(left) > 0 ? (
        <form aria-label="Refund" className="toolbar" onSubmit={(e: FormEvent<HTMLFormElement>) => { e.preventDefault(); if (!refund.isPending) refund.mutate(String(new FormData(e.currentTarget).get('amount') ?? '').trim()); }}>
          <label>Refund amount ({o.currency}, empty for all {left})<br /><input name="amount" inputMode="decimal" placeholder={left} /></label>
          <button type="submit" disabled={refund.isPending}>Refund</button>
        </form>
      ) : null}
      {refund.data ? <p className="ok" role="status">Refunded {money(refund.data.refund.amount, o.currency)}.</p> : null}
      <ErrorNote error={refund.error} />
    </section>
  );
}

export function OrdersView() {
  const [status, setStatus] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const list = useQuery({ queryKey: ['admin-orders'], queryFn: () => api<Page<Order>>('GET', '/orders?limit=100'), refetchInterval: 10000 });
  if (open) return <OrderDetail id={open} onBack={() => setOpen(null)} />;
  const items = (list.data?.items ?? []).filter((o) => !status || o.status === status);
  return (
    <section aria-label="Orders">
      <label>Status{' '}
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">Any</option>
          {['pending', 'confirmed', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded'].map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <ErrorNote error={list.error} />
      <div className="scroll">
        <table>
          <thead><tr><th>Order</th><th>Placed</th><th>Status</th><th>Total</th></tr></thead>
          <tbody>{items.map((o) => (
            <tr key={o.id}>
              <td><button className="link" aria-label={`Order ${o.id}`} onClick={() => setOpen(o.id)}>{shortId(o.id)}</button></td>
              <td>{o.created_at ? new Date(o.created_at).toLocaleString() : ''}</td><td>{o.status}</td><td>{money(o.total, o.currency)}</td>
            </tr>
          ))}</tbody>
        </table>
      </div>
    </section>
  );
}
