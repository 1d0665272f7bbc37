// NotificationPreferences.tsx - which messages reach the customer by which
// channel (GET/PUT /users/me/notification-preferences): order updates and
// offers, each by e-mail, SMS and push. The notification service honours
// them when it sends; security mail (password reset) and the in-app feed
// are not subject to them (docs/notifications.md).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Answer } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';

type Prefs = Answer<'getNotificationPreferences'>;
const CHANNELS = [['email', 'e-mail'], ['sms', 'SMS'], ['push', 'push']] as const;
const KINDS = [['order_updates', 'Order updates'], ['marketing', 'Offers and news']] as const;

export function NotificationPreferences() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['notification-preferences'], queryFn: () => api<Prefs>('GET', '/users/me/notification-preferences') });
  const [draft, setDraft] = useState<Prefs | null>(null);
  const save = useMutation({
    mutationFn: (p: Prefs) => api<Prefs>('PUT', '/users/me/notification-preferences', p),
    onSuccess: (p) => { qc.setQueryData(['notification-preferences'], p); setDraft(null); },
  });
  if (q.error) return <ErrorNote error={q.error} />;
  const shown = draft ?? q.data;
  if (!shown) return <p>Loading…</p>;
  return (
    <form aria-label="Notification preferences" className="card" onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(shown); }}>
      <h2>Notifications</h2>
      <p className="muted">How we may reach you. Your in-app notifications and security e-mail (password reset) always arrive.</p>
      <div className="scroll">
        <table>
          <thead><tr><th scope="col">Message</th>{CHANNELS.map(([c, label]) => <th key={c} scope="col">By {label}</th>)}</tr></thead>
          <tbody>{KINDS.map(([k, kind]) => (
            <tr key={k}>
              <th scope="row">{kind}</th>
              {CHANNELS.map(([c, label]) => (
                <td key={c}>
                  <input type="checkbox" aria-label={`${kind} by ${label}`} checked={shown[c][k]}
                    onChange={(e) => { save.reset(); setDraft({ ...shown, [c]: { ...shown[c], [k]: e.target.checked } }); }} />
                </td>
              ))}
            </tr>
          ))}</tbody>
        </table>
      </div>
      <ErrorNote error={save.error} />
      {save.isSuccess && !draft ? <p className="ok" role="status">Notification preferences saved.</p> : null}
      <button type="submit" disabled={save.isPending || !draft}>Save notification preferences</button>
    </form>
  );
}
