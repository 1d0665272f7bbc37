// Home.tsx - trending products and the categories, then the newest.
import { useQuery } from '@tanstack/react-query';
import { api, categoriesQuery, type Page, type Product } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { Link } from '../shared/router';
import { ProductCard } from './ProductCard';

export function Home() {
  const trending = useQuery({ queryKey: ['trending'], queryFn: () => api<Page<Product>>('GET', '/recommendations/trending?limit=8'), retry: false });
  const categories = useQuery(categoriesQuery);
  const newest = useQuery({ queryKey: ['products', 'newest'], queryFn: () => api<Page<Product>>('GET', '/products?sort=newest&limit=20') });
  return (
    <>
      <nav aria-label="Categories" className="chips">
        {(categories.data?.items ?? []).slice(0, 12).map((c) => (
          <Link key={c.id} href={`/categories/${c.id}`}>{c.name}</Link>
        ))}
      </nav>
      {trending.data && trending.data.items.length > 0 ? (
        <section aria-labelledby="trending">
          <h2 id="trending">Trending</h2>
          <div className="grid">{trending.data.items.map((p) => <ProductCard key={p.id} p={p} />)}</div>
        </section>
      ) : null}
      <section aria-labelledby="newest">
        <h2 id="newest">New in</h2>
        <ErrorNote error={newest.error} />
        <div className="grid">{(newest.data?.items ?? []).map((p) => <ProductCard key={p.id} p={p} />)}</div>
      </section>
    </>
  );
}
