// App.tsx - the storefront's frame: header (search with suggestions, cart,
// account), and the page for the current route.
import { useEffect, useState, type ReactElement } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, onAuthChange, signedIn, type Cart } from '../api/client';
import { Link, match, useLocation } from '../shared/router';
import { useCartId } from './cart';
import { Home } from './Home';
import { SearchPage } from './Search';
import { ProductPage } from './ProductPage';
import { CartPage } from './CartPage';
import { Checkout } from './Checkout';
import { SignIn, Register, Orders, OrderPage, AccountPage, ForgotPassword, ResetPassword } from './Account';
import { CategoryPage } from './CategoryPage';
import { NotificationsBadge, NotificationsPage } from './Notifications';
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
  else if ((m = match('/categories/:id', path))) page = <CategoryPage id={m.id} url={url} />;
  else if (path === '/forgot-password') page = <ForgotPassword />;
  else if (path === '/reset-password') page = <ResetPassword url={url} />;
  else if (path === '/account') page = isIn ? <AccountPage /> : <SignIn />;
  else if (path === '/notifications') page = isIn ? <NotificationsPage /> : <SignIn />;
  else if (path === '/orders') page = <Orders />;
  else if ((m = match('/orders/:id', path))) page = <OrderPage id={m.id} />;
  else page = <p>Nothing here. <Link href="/">Back to the shop</Link></p>;
  return (
    <>
      <header className="top">
        <Link href="/" className="brand">ShopSphere</Link>
        <div className="grow">
          <SearchBox initial={path === '/search' ? url.searchParams.get('q') ?? '' : ''} />
        </div>
        <nav aria-label="Your shop" className="links">
          <CartLink />
          {isIn ? (
            <>
              <Link href="/orders">Orders</Link>
              <NotificationsBadge />
              <Link href="/account">Account</Link>
            </>
          ) : (
            <Link href="/signin">Sign in</Link>
          )}
        </nav>
      </header>
      <main>{page}</main>
    </>
  );
}
