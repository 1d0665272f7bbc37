// ProductCard.tsx - one product in a grid: picture, name, price, rating.
import { money, type Product } from '../api/client';
import { Link } from '../shared/router';

export function Stars({ average, count }: { average?: string | null; count?: number }) {
  if (!count) return <span className="muted">No reviews yet</span>;
  return <span className="stars" aria-label={`Rated ${average} out of 5 by ${count}`}>★ {average} ({count})</span>;
}

export function ProductCard({ p }: { p: Product }) {
  const img = p.images?.[0] ?? `/api/v1/products/${p.id}/image.svg`;
  return (
    <article className="card">
      <Link href={`/products/${p.id}`}>
        <img src={img} alt="" loading="lazy" />
        <div>{p.name}</div>
      </Link>
      <div className="price">{money(p.price, p.currency)}</div>
      <Stars average={p.rating_average} count={p.rating_count} />
    </article>
  );
}
