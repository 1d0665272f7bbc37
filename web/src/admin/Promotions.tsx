// Promotions.tsx - discount codes and automatic promotions for admins
// (docs/promotions.md): the list with what each has been used, a form that
// creates any kind (a code or automatic; percentage, fixed amount, free
// shipping, buy X get Y; limits and dates; one category or the whole cart),
// and deactivation (DELETE ends it at once, keeping the uses made).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '../../api/schema';
import { ApiError, api, categoriesQuery, flattenCategories, type Answer } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';

type Promotion = components['schemas']['Promotion'];
type PromotionCreate = components['schemas']['PromotionCreate'];
type Kind = PromotionCreate['type'];

const KINDS: { value: Kind; label: string }[] = [
  { value: 'percentage', label: 'Percentage off' },
  { value: 'fixed', label: 'Fixed amount off' },
  { value: 'free_shipping', label: 'Free shipping' },
  { value: 'buy_x_get_y', label: 'Buy X get Y' },
];

/** What a promotion gives, as a shopper would read it. */
export function describeOffer(p: Promotion): string {
  switch (p.type) {
    case 'percentage': return `${p.value ?? ''} % off`;
    case 'fixed': return `${p.currency ?? ''} ${p.value ?? ''} off`;
    case 'free_shipping': return 'Free shipping';
    case 'buy_x_get_y': return `Buy ${p.buy_quantity ?? '?'} get ${p.get_quantity ?? '?'} free`;
  }
}

const when = (t: string | null) => (t ? new Date(t).toLocaleString() : '');

/** A datetime-local value ("2026-12-03T15:30", the browser's time zone) as
 *  RFC 3339, or null when empty. */
const instant = (v: string) => (v ? new Date(v).toISOString() : null);

function PromotionRow({ p }: { p: Promotion }) {
  const qc = useQueryClient();
  const end = useMutation({
    mutationFn: () => api('DELETE', `/admin/promotions/${p.id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['admin-promotions'] }),
  });
  const name = p.code ?? `automatic: ${p.description || describeOffer(p)}`;
  return (
    <tr>
      <td>{p.code ?? <span className="muted">automatic</span>}</td>
      <td>{p.description}</td>
      <td>{describeOffer(p)}{p.min_subtotal ? ` from ${p.currency ?? ''} ${p.min_subtotal}` : ''}{p.stackable ? ' · stackable' : ''}</td>
      <td>{p.used}{p.usage_limit !== null ? ` of ${p.usage_limit}` : ''}{p.per_customer_limit !== null ? ` (${p.per_customer_limit} per customer)` : ''}</td>
      <td>{p.starts_at ? `from ${when(p.starts_at)}` : ''}{p.starts_at && p.ends_at ? ' ' : ''}{p.ends_at ? `until ${when(p.ends_at)}` : ''}</td>
      <td>{p.status}</td>
      <td>
        <button className="secondary" aria-label={`Deactivate ${name}`} onClick={() => end.mutate()} disabled={end.isPending}>Deactivate</button>
        <ErrorNote error={end.error} />
      </td>
    </tr>
  );
}

function CreatePromotion() {
  const qc = useQueryClient();
  const cats = useQuery(categoriesQuery);
  const flat = flattenCategories(cats.data?.items ?? []);
  const [kind, setKind] = useState<Kind>('percentage');
  const [automatic, setAutomatic] = useState(false);
  const create = useMutation({
    mutationFn: (p: PromotionCreate) => api<Promotion>('POST', '/admin/promotions', p),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['admin-promotions'] }),
  });
  const err = create.error instanceof ApiError ? create.error : null;
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const d = new FormData(e.currentTarget);
    const s = (k: string) => String(d.get(k) ?? '').trim();
    const n = (k: string) => (s(k) === '' ? null : Number(s(k)));
    const p: PromotionCreate = { type: kind, code: automatic ? null : s('code'), stackable: d.get('stackable') === 'on' };
    if (s('description')) p.description = s('description');
    if (kind === 'percentage' || kind === 'fixed') p.value = s('value');
    if (kind === 'buy_x_get_y') { p.buy_quantity = n('buy_quantity'); p.get_quantity = n('get_quantity'); }
    if (s('currency')) p.currency = s('currency');
    if (s('min_subtotal')) p.min_subtotal = s('min_subtotal');
    p.starts_at = instant(s('starts_at'));
    p.ends_at = instant(s('ends_at'));
    p.usage_limit = n('usage_limit');
    p.per_customer_limit = n('per_customer_limit');
    if (s('category_id')) p.applies_to = { product_ids: [], category_ids: [s('category_id')] };
    const form = e.currentTarget;
    create.mutate(p, { onSuccess: () => { form.reset(); setKind('percentage'); setAutomatic(false); } });
  };
  const FIELDS = ['code', 'description', 'value', 'currency', 'buy_quantity', 'get_quantity', 'min_subtotal', 'starts_at', 'ends_at', 'usage_limit', 'per_customer_limit', 'applies_to'];
  const note = (k: string) => (err?.details === k ? <span className="field-error">{err.message}</span> : null);
  const input = (k: string, label: string, extra: Record<string, unknown> = {}) => (
    <label key={k}>{label}<br /><input name={k} aria-invalid={err?.details === k} {...extra} />{note(k)}</label>
  );
  return (
    <form aria-label="New promotion" className="card" onSubmit={onSubmit}>
      <h2>New promotion</h2>
      <div className="fields">
        <label>Kind<br />
          <select name="type" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            {KINDS.map((k) => <option key={k.value} value={k.value}>{k.label}</option>)}
          </select>
        </label>
        <label><input type="checkbox" name="automatic" checked={automatic} onChange={(e) => setAutomatic(e.target.checked)} /> Automatic (no code: every cart it fits)</label>
        {automatic ? null : input('code', 'Code', { required: true, placeholder: 'SAVE10', maxLength: 32 })}
        {input('description', 'Description', { maxLength: 200, placeholder: 'shown to shoppers' })}
        {kind === 'percentage' ? input('value', 'Percent off', { required: true, inputMode: 'decimal', placeholder: '15' }) : null}
        {kind === 'fixed' ? input('value', 'Amount off', { required: true, inputMode: 'decimal', placeholder: '5.00' }) : null}
        {kind === 'buy_x_get_y' ? input('buy_quantity', 'Buy (X)', { type: 'number', min: 1, max: 100, required: true }) : null}
        {kind === 'buy_x_get_y' ? input('get_quantity', 'Get free (Y)', { type: 'number', min: 1, max: 100, required: true }) : null}
        {input('currency', 'Currency', { maxLength: 3, placeholder: kind === 'fixed' ? 'USD' : 'any', required: kind === 'fixed' })}
        {input('min_subtotal', 'Minimum subtotal', { inputMode: 'decimal', placeholder: 'none' })}
        {input('starts_at', 'Starts', { type: 'datetime-local', style: { maxWidth: '100%', boxSizing: 'border-box' } })}
        {input('ends_at', 'Ends', { type: 'datetime-local', style: { maxWidth: '100%', boxSizing: 'border-box' } })}
        {input('usage_limit', 'Uses in total', { type: 'number', min: 1, placeholder: 'unlimited' })}
        {input('per_customer_limit', 'Uses per customer', { type: 'number', min: 1, placeholder: 'unlimited' })}
        <label>Only for category<br />
          <select name="category_id" defaultValue="">
            <option value="">The whole cart</option>
            {flat.map((c) => <option key={c.id} value={c.id}>{c.path}</option>)}
          </select>
          {note('applies_to')}
        </label>
        <label><input type="checkbox" name="stackable" /> Combines with other codes</label>
      </div>
      {err && !FIELDS.includes(err.details ?? '') ? <ErrorNote error={err} /> : null}
      {create.data ? <p className="ok" role="status">Created {create.data.code ?? 'an automatic promotion'}.</p> : null}
      <button type="submit" disabled={create.isPending}>Create promotion</button>
    </form>
  );
}

export function PromotionsView() {
  const list = useQuery({
    queryKey: ['admin-promotions'],
    queryFn: () => api<Answer<'listPromotions'>>('GET', '/admin/promotions?limit=100'),
  });
  const items = list.data?.items ?? [];
  return (
    <section aria-label="Promotions">
      <ErrorNote error={list.error} />
      {list.data && items.length === 0 ? <p>No promotions yet.</p> : null}
      <div className="scroll">
        <table aria-label="Promotions list">
          <thead><tr><th>Code</th><th>Description</th><th>Offer</th><th>Used</th><th>When</th><th>Status</th><th></th></tr></thead>
          <tbody>{items.map((p) => <PromotionRow key={p.id} p={p} />)}</tbody>
        </table>
      </div>
      {list.data?.next_cursor ? <p className="muted">The 100 newest are shown.</p> : null}
      <div style={{ marginTop: 12 }}>
        <CreatePromotion />
      </div>
    </section>
  );
}
