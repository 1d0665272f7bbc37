// cart.ts - which cart this browser shops with. A cart id is no secret (a
// signed-in user's cart answers only to them), so it may live in
// localStorage; on sign-in the guest cart merges into the user's.
import { useSyncExternalStore } from 'react';
import { api, signedIn, type Cart } from '../api/client';

const KEY = 'shopsphere.cart';
const listeners = new Set<() => void>();

export function cartId(): string | null {
  return localStorage.getItem(KEY);
}

function setCartId(id: string | null) {
  if (id) localStorage.setItem(KEY, id);
  else localStorage.removeItem(KEY);
  for (const fn of listeners) fn();
}

/** The cart id, re-rendering the caller when it changes. */
export function useCartId(): string | null {
  return useSyncExternalStore((fn) => {
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, cartId);
}

export async function ensureCart(): Promise<string> {
  const id = cartId();
  if (id) return id;
  const cart = await api<Cart>('POST', '/carts', {});
  setCartId(cart.id);
  return cart.id;
}

export function forgetCart() {
  setCartId(null);
}

/** After sign-in: a cart of the user's own, holding what the guest had. */
export async function adoptCart(): Promise<void> {
  if (!signedIn()) return;
  const guest = cartId();
  const mine = await api<Cart>('POST', '/carts', {});
  if (guest && guest !== mine.id) {
    await api('POST', `/carts/${mine.id}/merge`, { source_cart_id: guest }).catch(() => undefined);
  }
  setCartId(mine.id);
}

/** Reports a view or an add-to-cart to the recommendation clickstream. */
export function track(type: 'view' | 'add_to_cart', productId: string) {
  let session = sessionStorage.getItem('shopsphere.session');
  if (!session) {
    session = crypto.randomUUID();
    sessionStorage.setItem('shopsphere.session', session);
  }
  void api('POST', '/recommendations/events', { type, product_id: productId, session_id: session }).catch(() => undefined);
}
