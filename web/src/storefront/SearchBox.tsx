// SearchBox.tsx - the search box (labelled "Search") with suggestions as
// the shopper types; Enter searches, arrow keys reach the suggestions.
import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import { navigate } from '../shared/router';

interface Suggestion { text: string; type: string; id: string | null }

export function SearchBox({ initial }: { initial: string }) {
  const [q, setQ] = useState(initial);
  const [open, setOpen] = useState(false);
  // The box shows the query of the page: a search page's, or nothing on any
  // other page (the orders page does not keep the last search).
  useEffect(() => { setQ(initial); setOpen(false); }, [initial]);
  const term = q.trim();
  const s = useQuery({
    queryKey: ['suggest', term],
    queryFn: () => api<{ items: Suggestion[] }>('GET', `/search/suggest?q=${encodeURIComponent(term)}`),
    enabled: open && term.length >= 2,
    retry: false,
  });
  const go = (text: string) => {
    setOpen(false);
    navigate(`/search?q=${encodeURIComponent(text)}`);
  };
  const pick = (x: Suggestion) => (x.type === 'product' && x.id ? navigate(`/products/${x.id}`) : go(x.text));
  return (
    <form role="search" onSubmit={(e) => { e.preventDefault(); go(term); }}>
      <input
        type="search" aria-label="Search" placeholder="Search products" value={q} autoComplete="off"
        onChange={(e) => { setQ(e.target.value); setOpen(true); }}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
      />
      {open && s.data && s.data.items.length > 0 ? (
        <ul className="suggest" aria-label="Suggestions">
          {s.data.items.slice(0, 8).map((x, i) => (
            <li key={i}><button type="button" onMouseDown={(e) => { e.preventDefault(); pick(x); }}>{x.text} <span className="muted">{x.type}</span></button></li>
          ))}
        </ul>
      ) : null}
    </form>
  );
}
