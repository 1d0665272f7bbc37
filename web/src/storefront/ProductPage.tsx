// ProductPage.tsx - picture, price with currency, stock state, attributes,
// rating and reviews (a buyer writes one here), "Add to cart",
// bought-together and similar products; views and add-to-cart go to the
// recommendation clickstream.
import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, money, signedIn, type Page, type Product, type ProductDetail, type Review, type ReviewPage } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { Link } from '../shared/router';
import { ensureCart, track } from './cart';
import { ProductCard, Stars } from './ProductCard';

function Recommendations({ id, kind, title }: { id: string; kind: string; title: string }) {
  const q = useQuery({ queryKey: ['reco', id, kind], queryFn: () => api<Page<Product>>('GET', `/recommendations/products/${id}?kind=${kind}&limit=6`), retry: false });
  if (!q.data || q.data.items.length === 0) return null;
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      <div className="grid">{q.data.items.map((p) => <ProductCard key={p.id} p={p} />)}</div>
    </section>
  );
}

/** A buyer's review: the API accepts one per buyer of the product (403 for
 *  others) and keeps it pending until a moderator approves it. */
function ReviewForm({ id }: { id: string }) {
  const [rating, setRating] = useState(5);
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const write = useMutation({ mutationFn: () => api<Review>('POST', `/products/${id}/reviews`, { rating, title, body }) });
  if (!signedIn()) return <p className="muted"><Link href={`/signin?next=/products/${id}`}>Sign in</Link> to review a product you bought.</p>;
  if (write.data) {
    return <p className="ok" role="status">Thank you! Your review {write.data.status === 'approved' ? 'is published' : 'appears here once a moderator approves it'}.</p>;
  }
  const err = write.error instanceof ApiError ? write.error : null;
  const field = (k: string) => (err?.details === k ? <span className="field-error">{err.message}</span> : null);
  return (
    <form aria-label="Write a review" className="card narrow" onSubmit={(e: FormEvent) => { e.preventDefault(); write.mutate(); }}>
      <h3>Write a review</h3>
      <label>Rating<br />
        <select value={rating} onChange={(e) => setRating(Number(e.target.value))}>
          {[5, 4, 3, 2, 1].map((n) => <option key={n} value={n}>{n} {n === 1 ? 'star' : 'stars'}</option>)}
        </select>
      </label>
      <label>Title<br /><input value={title} maxLength={120} required onChange={(e) => setTitle(e.target.value)} aria-invalid={err?.details === 'title'} />{field('title')}</label>
      <label>Review<br /><textarea value={body} maxLength={5000} rows={4} required onChange={(e) => setBody(e.target.value)} aria-invalid={err?.details === 'body'} />{field('body')}</label>
      {err?.status === 403 ? <p role="alert" className="error">Only customers who bought this product can review it.</p>
        : err?.status === 409 ? <p role="alert" className="error">You have reviewed this product already.</p>
          : err && !['title', 'body', 'rating'].includes(err.details ?? '') ? <ErrorNote error={err} /> : null}
      <button type="submit" disabled={write.isPending}>Submit review</button>
    </form>
  );
}

type Variant = ProductDetail['variants'][number];

/** A product with options sells only its variants: one choice per option,
 *  and the variant of that combination (if there is one) is what the page
 *  prices and the cart takes. */
function useVariant(p: Product | undefined) {
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const options = p?.options ?? [];
  const variants = p?.variants ?? [];
  const pick = { ...Object.fromEntries(options.map((o) => [o.name, o.values.find((v) => variants.some((x) => x.options[o.name] === v)) ?? o.values[0]])), ...chosen };
  const variant: Variant | null = options.length
    ? variants.find((x) => options.every((o) => x.options[o.name] === pick[o.name])) ?? null
    : null;
  return { options, variants, pick, variant, choose: (name: string, value: string) => setChosen({ ...chosen, [name]: value }) };
}

export function ProductPage({ id }: { id: string }) {
  const qc = useQueryClient();
  const product = useQuery({ queryKey: ['product', id], queryFn: () => api<Product>('GET', `/products/${id}`) });
  const choice = useVariant(product.data);
  const reviews = useQuery({ queryKey: ['reviews', id], queryFn: () => api<ReviewPage>('GET', `/products/${id}/reviews?sort=newest`), retry: false });
  const [qty, setQty] = useState(1);
  const [added, setAdded] = useState(false);
  useEffect(() => track('view', id), [id]);
  const add = useMutation({
    mutationFn: async () => {
      const cart = await ensureCart();
      await api('POST', `/carts/${cart}/items`, choice.variant ? { product_id: id, variant_id: choice.variant.id, quantity: qty } : { product_id: id, quantity: qty });
    },
    onSuccess: () => {
      setAdded(true);
      track('add_to_cart', id);
      void qc.invalidateQueries({ queryKey: ['cart'] });
    },
  });
  if (product.error) return <ErrorNote error={product.error} />;
  const p = product.data;
  if (!p) return <p>Loading…</p>;
  const sellsVariants = choice.options.length > 0;
  const v = choice.variant;
  const available = sellsVariants ? v?.available ?? 0 : p.available ?? p.stock ?? 0;
  const attrs = p.attributes ?? {};
  return (
    <article>
      <div className="two">
        <img src={v?.images?.[0] ?? p.images?.[0] ?? `/api/v1/products/${p.id}/image.svg`} alt={p.name} style={{ width: '100%', borderRadius: 8, background: '#f3f4f6' }} />
        <div>
          <h1>{p.name}</h1>
          <p className="price" aria-label="Price">{money(v?.price ?? p.price, v?.currency ?? p.currency)}</p>
          {sellsVariants ? (
            <div aria-label="Choose a variant" role="group">
              {choice.options.map((o) => (
                <label key={o.name}>{o.name[0].toUpperCase() + o.name.slice(1)}{' '}
                  <select value={choice.pick[o.name] ?? ''} onChange={(e) => choice.choose(o.name, e.target.value)}>
                    {o.values.map((x) => <option key={x} value={x}>{x}</option>)}
                  </select>
                </label>
              ))}
              <p className="muted" data-testid="variant-sku">{v ? `SKU ${v.sku}` : 'This combination is not sold.'}</p>
            </div>
          ) : null}
          <p>{sellsVariants && !v ? 'Not available' : available > 0 ? (available < 5 ? `Only ${available} left` : 'In stock') : 'Out of stock'}</p>
          <Stars average={reviews.data?.rating_average ?? p.rating_average} count={reviews.data?.rating_count ?? p.rating_count} />
          <p>{p.description}</p>
          <dl>
            {(['brand', 'color', 'size'] as const).map((k) => (attrs[k] ? <div key={k}><dt>{k}</dt><dd>{attrs[k]}</dd></div> : null))}
            {attrs.weight ? <div><dt>weight</dt><dd>{attrs.weight} kg</dd></div> : null}
          </dl>
          <label>Quantity <input type="number" min={1} max={99} value={qty} onChange={(e) => setQty(Math.max(1, Number(e.target.value) || 1))} style={{ width: 70 }} /></label>
          <button onClick={() => add.mutate()} disabled={available === 0 || add.isPending}>Add to cart</button>
          {added ? <p className="ok" role="status">Added. <Link href="/cart">View cart</Link></p> : null}
          <ErrorNote error={add.error} />
          {sellsVariants && choice.variants.length ? (
            <table aria-label="Variants" className="small-table">
              <thead><tr>{choice.options.map((o) => <th key={o.name}>{o.name}</th>)}<th>Price</th><th>Stock</th></tr></thead>
              <tbody>{choice.variants.map((x) => (
                <tr key={x.id}>{choice.options.map((o) => <td key={o.name}>{x.options[o.name]}</td>)}<td>{money(x.price ?? p.price, x.currency)}</td><td>{x.available > 0 ? 'In stock' : 'Out of stock'}</td></tr>
              ))}</tbody>
            </table>
          ) : null}
        </div>
      </div>
      <section aria-label="Reviews">
        <h2>Reviews</h2>
        {(reviews.data?.items ?? []).length === 0 ? <p className="muted">No reviews yet.</p> : null}
        {(reviews.data?.items ?? []).map((r) => (
          <div key={r.id} className="card" style={{ marginBottom: 8 }}>
            <span className="stars" aria-label={`${r.rating} out of 5`}>{'★'.repeat(r.rating)}</span> <strong>{r.title}</strong>
            <p>{r.body}</p>
            <span className="muted">{r.author_name}{r.verified_purchase ? ' · verified purchase' : ''}</span>
          </div>
        ))}
        <ReviewForm id={id} />
      </section>
      <Recommendations id={id} kind="bought_together" title="Bought together" />
      <Recommendations id={id} kind="similar" title="Similar products" />
    </article>
  );
}
