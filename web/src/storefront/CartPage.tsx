// CartPage.tsx - lines with quantities, removal, the subtotal, "Checkout".
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, money, type Cart } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { Link, navigate } from '../shared/router';
import { useCartId } from './cart';

export function CartPage() {
  const id = useCartId();
  const qc = useQueryClient();
  const cart = useQuery({ queryKey: ['cart', id], queryFn: () => api<Cart>('GET', `/carts/${id}`), enabled: !!id });
  const change = useMutation({
    mutationFn: ({ product, quantity }: { product: string; quantity: number }) =>
      quantity > 0
        ? api('PATCH', `/carts/${id}/items/${product}`, { quantity })
        : api('DELETE', `/carts/${id}/items/${product}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['cart'] }),
  });
  if (!id || (cart.data && cart.data.items.length === 0)) return <p>Your cart is empty. <Link href="/">Keep shopping</Link></p>;
  if (cart.error) return <ErrorNote error={cart.error} />;
  const c = cart.data;
  if (!c) return <p>Loading…</p>;
  return (
    <section aria-label="Cart">
      <h1>Cart</h1>
      <div className="scroll">
      <table>
        <thead><tr><th>Product</th><th>Price</th><th>Quantity</th><th>Total</th><th></th></tr></thead>
        <tbody>
          {c.items.map((l) => (
            <tr key={l.variant_id ?? l.product_id}>
              <td><Link href={`/products/${l.product_id}`}>{l.name}</Link>{l.variant_id ? <span className="muted"> {l.sku}</span> : null}</td>
              <td>{money(l.unit_price, c.currency)}</td>
              <td><input type="number" min={0} max={99} aria-label={`Quantity of ${l.name}`} defaultValue={l.quantity} style={{ width: 70 }}
                onBlur={(e) => Number(e.target.value) !== l.quantity && change.mutate({ product: l.variant_id ?? l.product_id, quantity: Number(e.target.value) })} /></td>
              <td>{money(l.line_total, c.currency)}</td>
              <td><button className="secondary" onClick={() => change.mutate({ product: l.variant_id ?? l.product_id, quantity: 0 })}>Remove</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      <ErrorNote error={change.error} />
      <p className="price">Subtotal: {money(c.subtotal, c.currency)}</p>
      <button onClick={() => navigate('/checkout')}>Checkout</button>
    </section>
  );
}
