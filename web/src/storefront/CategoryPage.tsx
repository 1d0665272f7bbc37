// CategoryPage.tsx - one category: its subcategories, its products (and
// its descendants'), sorted and paged by the catalog's cursor.
import { useQuery } from '@tanstack/react-query';
import { api, categoriesQuery, flattenCategories, type Page, type Product } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { Link, navigate } from '../shared/router';
import { ProductCard } from './ProductCard';

export function CategoryPage({ id, url }: { id: string; url: URL }) {
  const sort = url.searchParams.get('sort') ?? 'newest';
  const cursor = url.searchParams.get('cursor');
  const categories = useQuery(categoriesQuery);
  const products = useQuery({
    queryKey: ['category', id, sort, cursor],
    queryFn: () => api<Page<Product>>('GET', `/products?category_id=${encodeURIComponent(id)}&sort=${sort}&limit=24${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  });
  const here = flattenCategories(categories.data?.items ?? []).find((c) => c.id === id);
  const go = (next: Record<string, string | null>) => {
    const p = new URLSearchParams(url.search);
    for (const [k, v] of Object.entries(next)) (v === null ? p.delete(k) : p.set(k, v));
    navigate(`/categories/${id}${p.toString() ? `?${p}` : ''}`);
  };
  return (
    <section aria-labelledby="category">
      <h1 id="category">{here?.name ?? 'Category'}</h1>
      {here?.children?.length ? (
        <nav aria-label="Subcategories" className="chips">
          {here.children.map((c) => <Link key={c.id} href={`/categories/${c.id}`}>{c.name}</Link>)}
        </nav>
      ) : null}
      <label>Sort{' '}
        <select value={sort} onChange={(e) => go({ sort: e.target.value, cursor: null })}>
          <option value="newest">Newest</option>
          <option value="price_asc">Price: low to high</option>
          <option value="price_desc">Price: high to low</option>
          <option value="name">Name</option>
        </select>
      </label>
      <ErrorNote error={products.error ?? categories.error} />
      {products.data && products.data.items.length === 0 ? <p>No products here yet.</p> : null}
      <div className="grid">{(products.data?.items ?? []).map((p) => <ProductCard key={p.id} p={p} />)}</div>
      <nav aria-label="Pages" className="pager">
        <button className="secondary" disabled={!cursor} onClick={() => window.history.back()}>Previous</button>
        <button className="secondary" disabled={!products.data?.next_cursor} onClick={() => go({ cursor: products.data?.next_cursor ?? null })}>Next</button>
      </nav>
    </section>
  );
}
