// Checkout.tsx - address (field errors from the API), shipping method with
// prices, card by sandbox token, "Place order". One Idempotency-Key per
// attempt: a double click or a retry after a lost answer makes one order.
import { useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, money, signedIn, type Address, type Cart, type Order } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { Link, navigate } from '../shared/router';
import { forgetCart, useCartId } from './cart';

interface Rate { method: string; amount: string; currency: string; estimated_days: number }

const FIELDS: [keyof Address, string, boolean][] = [
  ['first_name', 'First name', false], ['last_name', 'Last name', false], ['line1', 'Address line 1', true],
  ['city', 'City', true], ['state', 'State', false], ['postal_code', 'Postal code', true], ['country', 'Country', true],
];

export function Checkout() {
  const id = useCartId();
  const qc = useQueryClient();
  const [address, setAddress] = useState<Address>({ line1: '', city: '', postal_code: '', country: 'US' });
  const [method, setMethod] = useState('standard');
  const [card, setCard] = useState('tok_visa');
  const [attempt, setAttempt] = useState(() => crypto.randomUUID());
  const cart = useQuery({ queryKey: ['cart', id], queryFn: () => api<Cart>('GET', `/carts/${id}`), enabled: !!id });
  const complete = FIELDS.every(([k, , req]) => !req || (address[k] ?? '').trim() !== '');
  const items = useMemo(() => (cart.data?.items ?? []).map((l) => ({ product_id: l.product_id, quantity: l.quantity })), [cart.data]);
  const rates = useQuery({
    queryKey: ['rates', address.country, address.postal_code, items],
    queryFn: () => api<Rate[] | { items: Rate[] }>('POST', '/shipping/rates', { address, items }),
    enabled: complete && items.length > 0,
    retry: false,
  });
  const rateList = Array.isArray(rates.data) ? rates.data : rates.data?.items ?? [];
  const place = useMutation({
    mutationFn: () => api<Order>('POST', '/orders', {
      cart_id: id, shipping_address: address, shipping_method: method, payment_method: { type: 'card', token: card },
    }, { 'Idempotency-Key': attempt }),
    onSuccess: (order) => {
      forgetCart();
      void qc.invalidateQueries({ queryKey: ['cart'] });
      navigate(`/orders/${order.id}?placed=1`);
    },
    onError: () => setAttempt(crypto.randomUUID()), // the next try is a new attempt
  });
  if (!signedIn()) return <p>Please <Link href="/signin?next=/checkout">sign in</Link> or <Link href="/register?next=/checkout">create an account</Link> to check out.</p>;
  if (!id) return <p>Your cart is empty.</p>;
  const err = place.error instanceof ApiError ? place.error : null;
  const fieldError = (k: string) => (err && err.details === k ? err.message : null);
  return (
    <form aria-label="Checkout" onSubmit={(e) => { e.preventDefault(); if (!place.isPending) place.mutate(); }}>
      <h1>Checkout</h1>
      {cart.data ? <p>{cart.data.item_count} items, subtotal {money(cart.data.subtotal, cart.data.currency)}</p> : null}
      <fieldset>
        <legend>Shipping address</legend>
        {FIELDS.map(([k, label, req]) => (
          <label key={k}>{label}{req ? ' *' : ''}<br />
            <input value={(address[k] as string) ?? ''} required={req} aria-invalid={!!fieldError(`shipping_address.${k}`)}
              onChange={(e) => setAddress({ ...address, [k]: e.target.value })} />
            {fieldError(`shipping_address.${k}`) ? <span className="field-error">{fieldError(`shipping_address.${k}`)}</span> : null}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Shipping method</legend>
        {rateList.length === 0 ? <p className="muted">Enter the address to see the rates.</p> : null}
        {rateList.map((r) => (
          <label key={r.method}><input type="radio" name="method" value={r.method} checked={method === r.method} onChange={() => setMethod(r.method)} />
            {' '}{r.method}: {money(r.amount, r.currency)} ({r.estimated_days} days)</label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Payment</legend>
        <label>Card<br />
          <select value={card} onChange={(e) => setCard(e.target.value)}>
            <option value="tok_visa">Visa ending 4242 (tok_visa: approved)</option>
            <option value="tok_chargeDeclined">Declined card (tok_chargeDeclined)</option>
            <option value="tok_timeout">Slow processor (tok_timeout: times out)</option>
          </select>
        </label>
        <p className="muted">This shop runs against a sandbox card processor: these test tokens stand for cards; no money moves.</p>
      </fieldset>
      {err?.code === 'PAYMENT_DECLINED' ? (
        <div role="alert" className="error"><strong>Your card was declined.</strong> Nothing was charged and your cart is kept: try another card.
          {err.traceId ? <div className="trace">Trace id: {err.traceId}</div> : null}</div>
      ) : <ErrorNote error={place.error} />}
      <button type="submit" disabled={place.isPending}>Place order</button>
    </form>
  );
}
