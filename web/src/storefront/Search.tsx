// Search.tsx - results with disjunctive facets, "did you mean", sorting and
// paging; the URL holds the whole state, so a result page is a link.
import { useQuery } from '@tanstack/react-query';
import { api, type SearchAnswer } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { navigate } from '../shared/router';
import { ProductCard } from './ProductCard';

const PAGE = 20;

export function SearchPage({ url }: { url: URL }) {
  const params = new URLSearchParams(url.search);
  const key = params.toString();
  const answer = useQuery({ queryKey: ['search', key], queryFn: () => api<SearchAnswer>('GET', `/search?${key}&limit=${PAGE}`) });
  const set = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value === null || value === '') next.delete(name);
    else next.set(name, value);
    if (name !== 'offset') next.delete('offset');
    navigate(`/search?${next.toString()}`);
  };
  const offset = Number(params.get('offset') ?? 0);
  const a = answer.data;
  return (
    <div className="layout">
      <aside aria-label="Filters" className="filters">
        {(['brand', 'color', 'size'] as const).filter((facet) => (a?.facets?.[facet] ?? []).length > 0).map((facet) => (
          <fieldset key={facet}>
            <legend>{facet[0].toUpperCase() + facet.slice(1)}</legend>
            {(a?.facets?.[facet] ?? []).map((f) => (
              <label key={f.value}>
                <input type="checkbox" checked={params.get(facet) === f.value}
                  onChange={(e) => set(facet, e.target.checked ? f.value : null)} /> {f.value} ({f.count})
              </label>
            ))}
          </fieldset>
        ))}
        <label>In stock only <input type="checkbox" checked={params.get('in_stock') === 'true'} onChange={(e) => set('in_stock', e.target.checked ? 'true' : null)} /></label>
      </aside>
      <section>
        <ErrorNote error={answer.error} />
        {a?.corrected_query && a.corrected_query !== (params.get('q') ?? '').trim().toLowerCase() ? (
          <p role="status">Showing results for <strong>{a.corrected_query}</strong> (you typed “{params.get('q')}”).</p>
        ) : null}
        <p className="muted" aria-live="polite">{a ? `${a.total} ${a.total === 1 ? 'result' : 'results'}` : 'Searching…'}</p>
        <label>Sort{' '}
          <select value={params.get('sort') ?? 'relevance'} onChange={(e) => set('sort', e.target.value)}>
            <option value="relevance">Relevance</option>
            <option value="price_asc">Price: low to high</option>
            <option value="price_desc">Price: high to low</option>
            <option value="newest">Newest</option>
            <option value="rating">Rating</option>
          </select>
        </label>
        <div className="grid">{(a?.items ?? []).map((p) => <ProductCard key={p.id} p={p} />)}</div>
        <nav aria-label="Pages" className="pager">
          <button className="secondary" disabled={offset === 0} onClick={() => set('offset', String(Math.max(0, offset - PAGE)))}>Previous</button>
          <button className="secondary" disabled={!a || offset + PAGE >= a.total} onClick={() => set('offset', String(offset + PAGE))}>Next</button>
        </nav>
      </section>
    </div>
  );
}
