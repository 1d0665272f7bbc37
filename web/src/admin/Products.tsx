// Products.tsx - the catalog for admins: find, create, edit the price,
// images, options and variants (ProductVariants.tsx), archive, adjust inventory, and import a CSV file (each row is one
// POST /products; the rows the API refuses are listed with its reason).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, categoriesQuery, flattenCategories, type Page, type Product, type ProductCreate } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { ProductVariants } from './ProductVariants';

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

const CSV_COLUMNS = ['sku', 'name', 'price', 'currency', 'stock', 'category', 'description', 'brand', 'color', 'size', 'status'];

interface Refused { line: number; sku: string; reason: string }

/** One row as the API's ProductCreate; a malformed number stays a string so
 *  the API names the field. */
function rowToProduct(header: string[], row: string[], categories: Map<string, string>): Record<string, unknown> {
  const v = (k: string) => (row[header.indexOf(k)] ?? '').trim();
  const body: Record<string, unknown> = { sku: v('sku'), name: v('name'), price: v('price') };
  if (v('currency')) body.currency = v('currency');
  if (v('stock')) body.stock = /^-?\d+$/.test(v('stock')) ? Number(v('stock')) : v('stock');
  if (v('category')) {
    const id = categories.get(v('category').toLowerCase());
    if (!id) throw new Error(`no category "${v('category')}" (give its slug, path or name)`);
    body.category_id = id;
  }
  if (v('description')) body.description = v('description');
  if (v('status')) body.status = v('status');
  const attributes: Record<string, string> = {};
  for (const k of ['brand', 'color', 'size']) if (v(k)) attributes[k] = v(k);
  if (Object.keys(attributes).length) body.attributes = attributes;
  return body;
}

function CsvImport() {
  const qc = useQueryClient();
  const [result, setResult] = useState<{ created: number; refused: Refused[] } | null>(null);
  const run = useMutation({
    mutationFn: async (file: File) => {
      const rows = parseCsv(await file.text());
      const header = (rows.shift() ?? []).map((h) => h.trim().toLowerCase());
      const unknown = header.filter((h) => !CSV_COLUMNS.includes(h));
      if (!header.includes('sku') || !header.includes('name') || !header.includes('price') || unknown.length) {
        throw new Error(`The first line must name the columns: sku, name, price and any of ${CSV_COLUMNS.slice(3).join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}.`);
      }
      // A category by its slug, path or name, as a person writes it.
      const categories = new Map<string, string>();
      if (header.includes('category')) {
        for (const c of flattenCategories((await qc.fetchQuery(categoriesQuery)).items)) {
          for (const k of [c.slug, c.path, c.name]) categories.set(k.toLowerCase(), c.id);
        }
      }
      let created = 0;
      const refused: Refused[] = [];
      for (let i = 0; i < rows.length; i++) {
        const sku = (rows[i][header.indexOf('sku')] ?? '').trim();
        try {
          const body = rowToProduct(header, rows[i], categories);
          await api('POST', '/products', body);
          created++;
        } catch (e) {
          const reason = e instanceof ApiError ? `${e.message}${e.details ? ` (${e.details})` : ''}` : String(e);
          refused.push({ line: i + 2, sku, reason });
        }
      }
      return { created, refused };
    },
    onSuccess: (r) => { setResult(r); void qc.invalidateQueries({ queryKey: ['admin-products'] }); },
  });
  return (
    <section aria-labelledby="csv" className="card">
      <h2 id="csv">Import products from CSV</h2>
      <p className="muted">First line: the column names ({CSV_COLUMNS.join(', ')}); sku, name and price are required. Each row is created on its own; refused rows are listed with the reason.</p>
      <label>CSV file <input type="file" accept=".csv,text/csv" onChange={(e) => { const f = e.target.files?.[0]; if (f) { setResult(null); run.mutate(f); } e.target.value = ''; }} /></label>
      {run.isPending ? <p role="status">Importing…</p> : null}
      <ErrorNote error={run.error} />
      {result ? (
        <div role="status">
          <p>{result.created} created, {result.refused.length} refused.</p>
          {result.refused.length ? (
            <table aria-label="Refused rows">
              <thead><tr><th>Line</th><th>SKU</th><th>Reason</th></tr></thead>
              <tbody>{result.refused.map((r) => <tr key={r.line}><td>{r.line}</td><td>{r.sku}</td><td>{r.reason}</td></tr>)}</tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function CreateProduct() {
  const qc = useQueryClient();
  const cats = useQuery(categoriesQuery);
  const flat = flattenCategories(cats.data?.items ?? []);
  const create = useMutation({
    mutationFn: (p: ProductCreate) => api<Product>('POST', '/products', p),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['admin-products'] }),
  });
  const err = create.error instanceof ApiError ? create.error : null;
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const d = new FormData(e.currentTarget);
    const s = (k: string) => String(d.get(k) ?? '').trim();
    const p: ProductCreate = { sku: s('sku'), name: s('name'), price: s('price'), currency: s('currency') || 'USD', stock: Number(s('stock') || 0), status: s('status') as ProductCreate['status'] };
    if (s('description')) p.description = s('description');
    if (s('category_id')) p.category_id = s('category_id');
    const attributes: Record<string, string> = {};
    for (const k of ['brand', 'color', 'size']) if (s(k)) attributes[k] = s(k);
    if (Object.keys(attributes).length) p.attributes = attributes;
    const form = e.currentTarget;
    create.mutate(p, { onSuccess: () => form.reset() });
  };
  const input = (k: string, label: string, extra: Record<string, unknown> = {}) => (
    <label key={k}>{label}<br /><input name={k} aria-invalid={err?.details === k} {...extra} />{err?.details === k ? <span className="field-error">{err.message}</span> : null}</label>
  );
  return (
    <form aria-label="New product" className="card" onSubmit={onSubmit}>
      <h2>New product</h2>
      <div className="fields">
        {input('sku', 'SKU', { required: true })}
        {input('name', 'Name', { required: true })}
        {input('price', 'Price', { required: true, inputMode: 'decimal', placeholder: '19.99' })}
        {input('currency', 'Currency', { defaultValue: 'USD', maxLength: 3 })}
        {input('stock', 'Stock', { type: 'number', min: 0, defaultValue: 0 })}
        <label>Category<br />
          <select name="category_id" defaultValue="">
            <option value="">None</option>
            {flat.map((c) => <option key={c.id} value={c.id}>{c.path}</option>)}
          </select>
        </label>
        <label>Status<br />
          <select name="status" defaultValue="active"><option value="active">active</option><option value="draft">draft</option></select>
        </label>
        {input('brand', 'Brand')}
        {input('color', 'Color')}
        {input('size', 'Size')}
      </div>
      <label>Description<br /><textarea name="description" rows={2} /></label>
      {err && !['sku', 'name', 'price', 'currency', 'stock', 'brand', 'color', 'size'].includes(err.details ?? '') ? <ErrorNote error={err} /> : null}
      {create.data ? <p className="ok" role="status">Created {create.data.name}.</p> : null}
      <button type="submit" disabled={create.isPending}>Create product</button>
    </form>
  );
}

/** Name, description and the attributes a shopper filters by; an emptied
 *  attribute is left as it was (the API takes no empty values). */
function EditDetails({ p, onSaved }: { p: Product; onSaved: () => void }) {
  const edit = useMutation({ mutationFn: (patch: Record<string, unknown>) => api<Product>('PATCH', `/products/${p.id}`, patch), onSuccess: onSaved });
  const attrs = Object.fromEntries(Object.entries(p.attributes ?? {}).filter(([, v]) => v !== null && v !== undefined)) as NonNullable<Product['attributes']>;
  return (
    <details>
      <summary>Edit details</summary>
      <form aria-label={`Details of ${p.name}`} onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        const d = new FormData(e.currentTarget);
        const s = (k: string) => String(d.get(k) ?? '').trim();
        const attributes: Record<string, string> = {};
        for (const k of ['brand', 'color', 'size'] as const) if (s(k)) attributes[k] = s(k);
        edit.mutate({ name: s('name'), description: s('description'), attributes: { ...attrs, ...attributes } });
      }}>
        <label>Name<br /><input name="name" defaultValue={p.name} required maxLength={200} /></label>
        <label>Description<br /><textarea name="description" defaultValue={p.description ?? ''} rows={2} /></label>
        {(['brand', 'color', 'size'] as const).map((k) => <label key={k}>{k[0].toUpperCase() + k.slice(1)}<br /><input name={k} defaultValue={attrs[k] ?? ''} /></label>)}
        <ErrorNote error={edit.error} />
        <button type="submit" className="secondary" disabled={edit.isPending}>Save details</button>
      </form>
    </details>
  );
}

function ProductRow({ p, onEdit }: { p: Product; onEdit: () => void }) {
  const qc = useQueryClient();
  const done = () => qc.invalidateQueries({ queryKey: ['admin-products'] });
  const save = useMutation({ mutationFn: (price: string) => api('PATCH', `/products/${p.id}`, { price }), onSuccess: done });
  const adjust = useMutation({
    mutationFn: ({ delta, reason }: { delta: number; reason: string }) => api('POST', `/products/${p.id}/inventory-adjustments`, { delta, reason }),
    onSuccess: done,
  });
  const archive = useMutation({ mutationFn: () => api('DELETE', `/products/${p.id}`), onSuccess: done });
  return (
    <tr>
      <td>{p.sku}</td><td>{p.name}<EditDetails p={p} onSaved={done} /><button type="button" className="link" onClick={onEdit}>Images, options and variants of {p.name}</button></td><td>{p.stock}{p.available !== undefined && p.available !== p.stock ? ` (${p.available} free)` : ''}</td><td>{p.status}</td>
      <td>
        <form onSubmit={(e: FormEvent<HTMLFormElement>) => { e.preventDefault(); save.mutate(String(new FormData(e.currentTarget).get('price'))); }}>
          <input name="price" aria-label={`Price of ${p.name}`} defaultValue={p.price} size={8} /> {p.currency}{' '}
          <button type="submit" className="secondary">Save</button>
        </form>
        <ErrorNote error={save.error} />
      </td>
      <td>
        <form onSubmit={(e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          const d = new FormData(e.currentTarget);
          const form = e.currentTarget;
          adjust.mutate({ delta: Number(d.get('delta')), reason: String(d.get('reason') ?? '') || 'stock count' }, { onSuccess: () => form.reset() });
        }}>
          <input name="delta" type="number" required aria-label={`Units to add to ${p.name} (negative removes)`} style={{ width: 70 }} />{' '}
          <input name="reason" aria-label={`Reason for the stock change of ${p.name}`} placeholder="reason" size={10} />{' '}
          <button type="submit" className="secondary">Adjust</button>
        </form>
        <ErrorNote error={adjust.error} />
      </td>
      <td>
        {p.status !== 'archived' ? <button className="secondary" aria-label={`Archive ${p.name}`} onClick={() => archive.mutate()} disabled={archive.isPending}>Archive</button> : null}
        <ErrorNote error={archive.error} />
      </td>
    </tr>
  );
}

export function ProductsView() {
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ['admin-products', status],
    queryFn: () => api<Page<Product>>('GET', `/products?limit=100&sort=newest${status ? `&status=${status}` : ''}`),
  });
  const items = (list.data?.items ?? []).filter((p) => !q || p.name.toLowerCase().includes(q.toLowerCase()) || p.sku.toLowerCase().includes(q.toLowerCase()));
  return (
    <section aria-label="Products">
      <div className="toolbar">
        <label>Find a product <input value={q} onChange={(e) => setQ(e.target.value)} /></label>
        <label>Show{' '}
          <select aria-label="Show products" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">active products</option><option value="draft">draft products</option><option value="archived">archived products</option>
          </select>
        </label>
      </div>
      <ErrorNote error={list.error} />
      <div className="scroll">
        <table>
          <thead><tr><th>SKU</th><th>Name</th><th>Stock</th><th>Status</th><th>Price</th><th>Inventory</th><th></th></tr></thead>
          <tbody>{items.map((p) => <ProductRow key={p.id} p={p} onEdit={() => setEditing(p.id)} />)}</tbody>
        </table>
      </div>
      {editing ? <ProductVariants key={editing} id={editing} onClose={() => setEditing(null)} /> : null}
      <div className="two" style={{ marginTop: 12 }}>
        <CreateProduct />
        <CsvImport />
      </div>
    </section>
  );
}
