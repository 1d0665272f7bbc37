// App.tsx - the storefront's frame: header (search with suggestions, cart,
// account), and the page for the current route.
import { useEffect, useState, type ReactElement } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, onAuthChange, signedIn, signOut, type Cart } from '../api/client';
import { Link, match, navigate, useLocation } from '../shared/router';
import { useCartId } from './cart';
import { Home } from './Home';
import { SearchPage } from './Search';
import { ProductPage } from './ProductPage';
import { CartPage } from './CartPage';
import { Checkout } from './Checkout';
import { SignIn, Register, Orders, OrderPage } from './Account';
import { SearchBox } from './SearchBox';

function useSignedIn() {
  const [v, setV] = useState(signedIn());
  useEffect(() => onAuthChange(() => setV(signedIn())), []);
  return v;
}

function CartLink() {
  const id = useCartId();
  const cart = useQuery({ queryKey: ['cart', id], queryFn: () => api<Cart>('GET', `/carts/${id}`), enabled: !!id });
  const n = cart.data?.item_count ?? 0;
  return <Link href="/cart" aria-label={`Cart, ${n} items`}>Cart ({n})</Link>;
}

function Unread() {
  const q = useQuery({
    queryKey: ['notifications'],
    queryFn: () => api<{ unread_count: number }>('GET', '/notifications?limit=1'),
    refetchInterval: 15_000,
    retry: false,
  });
  const n = q.data?.unread_count ?? 0;
  return n > 0 ? <span className="badge" aria-label={`${n} unread notifications`}>{n}</span> : null;
}

export function App() {
  const url = useLocation();
  const isIn = useSignedIn();
  const path = url.pathname;
  let page: ReactElement;
  let m: Record<string, string> | null;
  if (path === '/') page = <Home />;
  else if (path === '/search') page = <SearchPage url={url} />;
  else if ((m = match('/products/:id', path))) page = <ProductPage id={m.id} />;
  else if (path === '/cart') page = <CartPage />;
  else if (path === '/checkout') page = <Checkout />;
  else if (path === '/signin') page = <SignIn />;
  else if (path === '/register') page = <Register />;
  else if (path === '/orders') page = <Orders />;
  else if ((m = match('/orders/:id', path))) page = <OrderPage id={m.id} />;
  else page = <p>Nothing here. <Link href="/">Back to the shop</Link></p>;
  return (
    <>
      <header className="top">
        <Link href="/">ShopSphere</Link>
        <div className="grow">
          <SearchBox initial={url.searchParams.get('q') ?? ''} />
        </div>
        <CartLink />
        {isIn ? (
          <>
            <Link href="/orders">Orders<Unread /></Link>
            <button className="secondary" onClick={() => { signOut(); navigate('/'); }}>Sign out</button>
          </>
        ) : (
          <Link href="/signin">Sign in</Link>
        )}
      </header>
      <main>{page}</main>
    </>
  );
}
