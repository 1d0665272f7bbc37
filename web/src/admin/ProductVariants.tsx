// ProductVariants.tsx - one product's images, options and variants for
// admins, on the catalog API as it is: PATCH /products/{id} (images,
// options), POST /products/{id}/variants, PATCH and DELETE /variants/{id}
// (SKU, price, option values) and the inventory adjustment of a variant
// (its stock moves with a reason, audited like any adjustment).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type ProductDetail } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';

type Variant = ProductDetail['variants'][number];
type Option = ProductDetail['options'][number];

/** "size: S, M, L" per line into options; values are trimmed, empties left out. */
export function parseOptions(text: string): Option[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const at = l.indexOf(':');
    const name = (at < 0 ? l : l.slice(0, at)).trim();
    const values = at < 0 ? [] : l.slice(at + 1).split(',').map((v) => v.trim()).filter(Boolean);
    return { name, values };
  });
}

function VariantRow({ v, product, onSaved }: { v: Variant; product: ProductDetail; onSaved: () => void }) {
  const label = `${v.sku}`;
  const save = useMutation({ mutationFn: (patch: Record<string, unknown>) => api('PATCH', `/variants/${v.id}`, patch), onSuccess: onSaved });
  const adjust = useMutation({
    mutationFn: (delta: number) => api('POST', `/products/${product.id}/inventory-adjustments`, { delta, reason: 'admin variant stock', variant_id: v.id }),
    onSuccess: onSaved,
  });
  const remove = useMutation({ mutationFn: () => api('DELETE', `/variants/${v.id}`), onSuccess: onSaved });
  return (
    <tr>
      <td>{v.sku}</td>
      <td>{Object.entries(v.options).map(([k, x]) => `${k}: ${x}`).join(', ')}</td>
      <td>
        <form onSubmit={(e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          const d = new FormData(e.currentTarget);
          const price = String(d.get('price') ?? '').trim();
          const patch: Record<string, unknown> = { price: price || null };
          for (const o of product.options) {
            const x = String(d.get(`opt-${o.name}`) ?? '');
            if (x && x !== v.options[o.name]) patch.options = { ...v.options, ...(patch.options as object | undefined), [o.name]: x };
          }
          save.mutate(patch);
        }}>
          <input name="price" aria-label={`Price of variant ${label}`} defaultValue={v.price ?? ''} placeholder={product.price} size={8} /> {v.currency}{' '}
          {product.options.map((o) => (
            <select key={o.name} name={`opt-${o.name}`} aria-label={`${o.name} of variant ${label}`} defaultValue={v.options[o.name] ?? ''}>
              {o.values.map((x) => <option key={x} value={x}>{x}</option>)}
            </select>
          ))}{' '}
          <button type="submit" className="secondary" disabled={save.isPending}>Save variant {label}</button>
        </form>
        <ErrorNote error={save.error} />
      </td>
      <td>{v.stock}{v.available !== v.stock ? ` (${v.available} free)` : ''}</td>
      <td>
        <form onSubmit={(e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          const form = e.currentTarget;
          adjust.mutate(Number(new FormData(form).get('delta')), { onSuccess: () => form.reset() });
        }}>
          <input name="delta" type="number" required aria-label={`Units to add to variant ${label} (negative removes)`} style={{ width: 70 }} />{' '}
          <button type="submit" className="secondary" disabled={adjust.isPending}>Adjust</button>
        </form>
        <ErrorNote error={adjust.error} />
      </td>
      <td>
        <button className="secondary" aria-label={`Delete variant ${label}`} onClick={() => remove.mutate()} disabled={remove.isPending}>Delete</button>
        <ErrorNote error={remove.error} />
      </td>
    </tr>
  );
}

function NewVariant({ product, onSaved }: { product: ProductDetail; onSaved: () => void }) {
  const create = useMutation({ mutationFn: (body: Record<string, unknown>) => api('POST', `/products/${product.id}/variants`, body), onSuccess: onSaved });
  if (!product.options.length) return <p className="muted">Give the product options (above) to sell it in variants.</p>;
  return (
    <form aria-label={`New variant of ${product.name}`} onSubmit={(e: FormEvent<HTMLFormElement>) => {
      e.preventDefault();
      const form = e.currentTarget;
      const d = new FormData(form);
      const s = (k: string) => String(d.get(k) ?? '').trim();
      const body: Record<string, unknown> = {
        sku: s('sku'),
        options: Object.fromEntries(product.options.map((o) => [o.name, s(`opt-${o.name}`)])),
        stock: Number(s('stock') || 0),
      };
      if (s('price')) body.price = s('price');
      create.mutate(body, { onSuccess: () => form.reset() });
    }}>
      <h4>New variant</h4>
      <div className="fields">
        <label>Variant SKU<br /><input name="sku" required maxLength={64} /></label>
        {product.options.map((o) => (
          <label key={o.name}>Variant {o.name}<br />
            <select name={`opt-${o.name}`}>{o.values.map((x) => <option key={x} value={x}>{x}</option>)}</select>
          </label>
        ))}
        <label>Variant price (empty: the product's)<br /><input name="price" inputMode="decimal" placeholder={product.price} /></label>
        <label>Variant stock<br /><input name="stock" type="number" min={0} defaultValue={0} /></label>
      </div>
      <ErrorNote error={create.error} />
      <button type="submit" disabled={create.isPending}>Add variant</button>
    </form>
  );
}

export function ProductVariants({ id, onClose }: { id: string; onClose: () => void }) {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['admin-product', id], queryFn: () => api<ProductDetail>('GET', `/products/${id}`) });
  const [images, setImages] = useState<string | null>(null);
  const [options, setOptions] = useState<string | null>(null);
  const saved = () => {
    void qc.invalidateQueries({ queryKey: ['admin-product', id] });
    void qc.invalidateQueries({ queryKey: ['admin-products'] });
  };
  const patch = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<ProductDetail>('PATCH', `/products/${id}`, body),
    onSuccess: (p) => { qc.setQueryData(['admin-product', id], p); setImages(null); setOptions(null); saved(); },
  });
  const p = q.data;
  if (!p) return <section className="card"><ErrorNote error={q.error} />{q.error ? null : <p>Loading…</p>}</section>;
  const imagesText = images ?? p.images.join('\n');
  const optionsText = options ?? p.options.map((o) => `${o.name}: ${o.values.join(', ')}`).join('\n');
  return (
    <section aria-label={`Images, options and variants of ${p.name}`} className="card" style={{ marginTop: 12 }}>
      <div className="toolbar" style={{ justifyContent: 'space-between' }}>
        <h3 style={{ margin: 0 }}>{p.name} <span className="muted">{p.sku}</span></h3>
        <button className="secondary" onClick={onClose}>Close</button>
      </div>
      <div className="two">
        <form onSubmit={(e: FormEvent) => { e.preventDefault(); patch.mutate({ images: imagesText.split('\n').map((u) => u.trim()).filter(Boolean) }); }}>
          <label>Image URLs, one per line<br /><textarea rows={4} value={imagesText} onChange={(e) => setImages(e.target.value)} /></label>
          <button type="submit" className="secondary" disabled={patch.isPending}>Save images</button>
        </form>
        <form onSubmit={(e: FormEvent) => { e.preventDefault(); patch.mutate({ options: parseOptions(optionsText) }); }}>
          <label>Options, one per line (name: value, value)<br /><textarea rows={4} value={optionsText} placeholder="size: S, M, L" onChange={(e) => setOptions(e.target.value)} /></label>
          <button type="submit" className="secondary" disabled={patch.isPending}>Save options</button>
        </form>
      </div>
      <ErrorNote error={patch.error} />
      {p.images.length ? <div className="chips">{p.images.map((u) => <img key={u} src={u} alt={`Image of ${p.name}`} style={{ width: 64, height: 48, objectFit: 'cover' }} />)}</div> : null}
      <h4>Variants</h4>
      {p.variants.length ? (
        <div className="scroll">
          <table aria-label={`Variants of ${p.name}`}>
            <thead><tr><th>SKU</th><th>Options</th><th>Price and values</th><th>Stock</th><th>Inventory</th><th></th></tr></thead>
            <tbody>{p.variants.map((v) => <VariantRow key={v.id} v={v} product={p} onSaved={saved} />)}</tbody>
          </table>
        </div>
      ) : <p className="muted">No variants.</p>}
      <NewVariant product={p} onSaved={saved} />
    </section>
  );
}
