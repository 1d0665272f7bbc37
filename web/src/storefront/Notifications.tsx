// Notifications.tsx - the header's badge, fed by the live stream
// (GET /notifications/stream through the gateway, docs/notifications.md),
// and the notifications page (the feed, each marked read when opened).
import { useEffect } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, followNotifications, type Notification } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';
import { Link } from '../shared/router';

interface Feed { items: Notification[]; next_cursor: string | null; unread_count: number }

const FEED = ['notifications'];

/** The unread count, kept current by the stream: each frame adds the new
 *  notification; each (re)connection reads the feed for what it missed. */
export function NotificationsBadge() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: FEED, queryFn: () => api<Feed>('GET', '/notifications?limit=20'), retry: false });
  useEffect(() => {
    const stop = new AbortController();
    void followNotifications(
      (n) => {
        qc.setQueryData<Feed>(FEED, (f) => {
          if (!f) return f;
          if (f.items.some((x) => x.id === n.id)) return f;
          return { ...f, items: [n, ...f.items], unread_count: f.unread_count + (n.read ? 0 : 1) };
        });
        // An order's page shows the news at once.
        if (n.data.order_id) void qc.invalidateQueries({ queryKey: ['order', n.data.order_id] });
      },
      () => void qc.invalidateQueries({ queryKey: FEED }),
      stop.signal,
    );
    return () => stop.abort();
  }, [qc]);
  const n = q.data?.unread_count ?? 0;
  return (
    <Link href="/notifications" aria-label={n > 0 ? `Notifications, ${n} unread` : 'Notifications'}>
      <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="currentColor" style={{ verticalAlign: 'middle' }}><path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z" /></svg>{n > 0 ? <span className="badge" data-testid="unread">{n}</span> : null}
    </Link>
  );
}

export function NotificationsPage() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: FEED, queryFn: () => api<Feed>('GET', '/notifications?limit=20') });
  const read = useMutation({
    mutationFn: (id: string) => api<Notification>('POST', `/notifications/${id}/read`),
    onSuccess: () => qc.invalidateQueries({ queryKey: FEED }),
  });
  return (
    <section aria-label="Notifications">
      <h1>Notifications</h1>
      <ErrorNote error={q.error ?? read.error} />
      {q.data && q.data.items.length === 0 ? <p>Nothing new.</p> : null}
      <ul className="plain">
        {(q.data?.items ?? []).map((n) => (
          <li key={n.id} className="card" style={{ marginBottom: 8, fontWeight: n.read ? 400 : 600 }}>
            <div>{n.title}</div>
            <div className="muted">{n.body} · {new Date(n.created_at).toLocaleString()}</div>
            {n.data.order_id ? <Link href={`/orders/${n.data.order_id}`} onClick={() => read.mutate(n.id)}>See the order</Link> : null}
            {!n.read ? <> {' '}<button className="secondary" onClick={() => read.mutate(n.id)}>Mark read</button></> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
