// Settings.tsx - the admin's other screens: categories (the tree; create,
// rename, move, delete), users (find, role, suspend), search synonyms and the audit log.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, categoriesQuery, flattenCategories, type AuditEntry, type Category, type CategoryNode, type Page, type Role, type SynonymGroups, type User, type UserList } from '../api/client';
import { ErrorNote } from '../shared/ErrorNote';

/** One category: its name and path, rename or move it in place, delete it
 *  (the API refuses one with products or subcategories: the refusal shows
 *  under it). */
function CategoryItem({ c, all }: { c: CategoryNode; all: CategoryNode[] }) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const done = () => qc.invalidateQueries({ queryKey: ['categories'] });
  const update = useMutation({
    mutationFn: (b: { name?: string; parent_id?: string | null }) => api<Category>('PATCH', `/categories/${c.id}`, b),
    onSuccess: () => { setEditing(false); void done(); },
  });
  const remove = useMutation({ mutationFn: () => api<void>('DELETE', `/categories/${c.id}`), onSuccess: done });
  // Not under itself nor under its own subtree (the API says 422 anyway).
  const parents = all.filter((o) => o.path !== c.path && !o.path.startsWith(`${c.path}/`));
  return (
    <li aria-label={c.name}>
      <span className="cat-name">{c.name}</span> <span className="muted">/{c.path}</span>{' '}
      <button type="button" className="link" aria-expanded={editing} onClick={() => { setEditing(!editing); update.reset(); }}>Rename or move {c.name}</button>{' '}
      <button type="button" className="link" disabled={remove.isPending} onClick={() => remove.mutate()}>Delete {c.name}</button>
      {editing ? (
        <form aria-label={`Edit ${c.name}`} className="toolbar" onSubmit={(e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          const d = new FormData(e.currentTarget);
          const b: { name?: string; parent_id?: string | null } = {};
          const name = String(d.get('name') ?? '').trim();
          const parent = String(d.get('parent_id') ?? '');
          if (name !== c.name) b.name = name;
          if (parent !== (c.parent_id ?? '')) b.parent_id = parent || null;
          update.mutate(b);
        }}>
          <label>New name of {c.name}<br /><input name="name" defaultValue={c.name} required maxLength={100} /></label>
          <label>Parent of {c.name}<br />
            <select name="parent_id" defaultValue={c.parent_id ?? ''}>
              <option value="">None (top level)</option>
              {parents.map((o) => <option key={o.id} value={o.id}>{o.path}</option>)}
            </select>
          </label>
          <button type="submit" disabled={update.isPending}>Save {c.name}</button>
        </form>
      ) : null}
      <ErrorNote error={update.error ?? remove.error} />
      {c.children.length ? <ul>{c.children.map((k) => <CategoryItem key={k.id} c={k} all={all} />)}</ul> : null}
    </li>
  );
}

export function CategoriesView() {
  const qc = useQueryClient();
  const list = useQuery(categoriesQuery);
  const flat = flattenCategories(list.data?.items ?? []);
  const create = useMutation({
    mutationFn: (b: { name: string; slug?: string; parent_id?: string }) => api<Category>('POST', '/categories', b),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['categories'] }),
  });
  const err = create.error instanceof ApiError ? create.error : null;
  return (
    <section aria-label="Categories" className="two">
      <div className="card">
        <h2>Categories</h2>
        <ErrorNote error={list.error} />
        <ul aria-label="Category tree">{(list.data?.items ?? []).map((c) => <CategoryItem key={c.id} c={c} all={flat} />)}</ul>
      </div>
      <form aria-label="New category" className="card" onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        const d = new FormData(e.currentTarget);
        const b: { name: string; slug?: string; parent_id?: string } = { name: String(d.get('name') ?? '').trim() };
        const slug = String(d.get('slug') ?? '').trim();
        const parent = String(d.get('parent_id') ?? '');
        if (slug) b.slug = slug;
        if (parent) b.parent_id = parent;
        const form = e.currentTarget;
        create.mutate(b, { onSuccess: () => form.reset() });
      }}>
        <h2>New category</h2>
        <label>Name<br /><input name="name" required maxLength={100} aria-invalid={err?.details === 'name'} /></label>
        <label>Slug (optional)<br /><input name="slug" pattern="[a-z0-9-]+" aria-invalid={err?.details === 'slug'} /></label>
        <label>Parent<br />
          <select name="parent_id" defaultValue=""><option value="">None (top level)</option>{flat.map((c) => <option key={c.id} value={c.id}>{c.path}</option>)}</select>
        </label>
        <ErrorNote error={create.error} />
        {create.data ? <p className="ok" role="status">Created {create.data.name}.</p> : null}
        <button type="submit" disabled={create.isPending}>Create category</button>
      </form>
    </section>
  );
}

function UserRow({ u, self }: { u: User; self: boolean }) {
  const qc = useQueryClient();
  const update = useMutation({
    mutationFn: (patch: { role?: Role; status?: User['status'] }) => api<User>('PATCH', `/admin/users/${u.id}`, patch),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['admin-users'] }),
  });
  return (
    <tr>
      <td>{u.email}</td><td>{u.username}</td><td>{[u.first_name, u.last_name].filter(Boolean).join(' ')}</td>
      <td>
        <select aria-label={`Role of ${u.email}`} value={u.role} disabled={self || update.isPending} onChange={(e) => update.mutate({ role: e.target.value as Role })}>
          <option value="customer">customer</option><option value="moderator">moderator</option><option value="admin">admin</option>
        </select>
      </td>
      <td>{u.status}</td>
      <td>
        {self ? <span className="muted">you</span> : (
          <button className="secondary" disabled={update.isPending} aria-label={`${u.status === 'active' ? 'Suspend' : 'Reactivate'} ${u.email}`}
            onClick={() => update.mutate({ status: u.status === 'active' ? 'suspended' : 'active' })}>{u.status === 'active' ? 'Suspend' : 'Reactivate'}</button>
        )}
        <ErrorNote error={update.error} />
      </td>
    </tr>
  );
}

export function UsersView() {
  const [q, setQ] = useState('');
  const [role, setRole] = useState('');
  const me = useQuery({ queryKey: ['me', true], queryFn: () => api<User>('GET', '/users/me') });
  const list = useQuery({
    queryKey: ['admin-users', q, role],
    queryFn: () => api<UserList>('GET', `/admin/users?limit=50${q ? `&q=${encodeURIComponent(q)}` : ''}${role ? `&role=${role}` : ''}`),
  });
  return (
    <section aria-label="Users">
      <div className="toolbar">
        <label>Find a user <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="e-mail or username" /></label>
        <label>Role{' '}
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="">Any</option><option value="customer">customer</option><option value="moderator">moderator</option><option value="admin">admin</option>
          </select>
        </label>
      </div>
      <ErrorNote error={list.error} />
      <div className="scroll">
        <table>
          <thead><tr><th>E-mail</th><th>Username</th><th>Name</th><th>Role</th><th>Status</th><th></th></tr></thead>
          <tbody>{(list.data?.items ?? []).map((u) => <UserRow key={u.id} u={u} self={u.id === me.data?.id} />)}</tbody>
        </table>
      </div>
    </section>
  );
}

export function SynonymsView() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['synonyms'], queryFn: () => api<SynonymGroups>('GET', '/admin/search/synonyms') });
  const [text, setText] = useState<string | null>(null);
  const shown = text ?? (q.data?.groups ?? []).map((g) => g.join(', ')).join('\n');
  const save = useMutation({
    mutationFn: (groups: string[][]) => api<SynonymGroups>('PUT', '/admin/search/synonyms', { groups }),
    onSuccess: (d) => { qc.setQueryData(['synonyms'], d); setText(null); },
  });
  return (
    <form aria-label="Search synonyms" onSubmit={(e: FormEvent) => {
      e.preventDefault();
      save.mutate(shown.split('\n').map((l) => l.split(',').map((t) => t.trim()).filter(Boolean)).filter((g) => g.length > 0));
    }}>
      <h2>Search synonyms</h2>
      <p className="muted">One group per line, its terms separated by commas: a search for any term finds them all.</p>
      <ErrorNote error={q.error ?? save.error} />
      <label>Synonym groups<br /><textarea rows={12} value={shown} onChange={(e) => setText(e.target.value)} /></label>
      {save.isSuccess && text === null ? <p className="ok" role="status">Saved.</p> : null}
      <button type="submit" disabled={save.isPending}>Save synonyms</button>
    </form>
  );
}

export function AuditView() {
  const [actor, setActor] = useState('');
  const [target, setTarget] = useState('');
  const [pages, setPages] = useState<string[]>([]);
  const cursor = pages.at(-1);
  const q = useQuery({
    queryKey: ['audit', actor, target, cursor],
    queryFn: () => api<Page<AuditEntry>>('GET', `/admin/audit-log?limit=50${actor ? `&actor=${encodeURIComponent(actor)}` : ''}${target ? `&target=${encodeURIComponent(target)}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  });
  const show = (v: Record<string, unknown> | null) => (v ? Object.entries(v).map(([k, x]) => `${k}: ${JSON.stringify(x)}`).join(', ') : '');
  return (
    <section aria-label="Audit log">
      <div className="toolbar">
        <label>Actor <input value={actor} onChange={(e) => { setActor(e.target.value); setPages([]); }} placeholder="e-mail or id" /></label>
        <label>Target <input value={target} onChange={(e) => { setTarget(e.target.value); setPages([]); }} placeholder="id" /></label>
      </div>
      <ErrorNote error={q.error} />
      <div className="scroll">
        <table>
          <thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Before</th><th>After</th></tr></thead>
          <tbody>{(q.data?.items ?? []).map((a) => (
            <tr key={a.id}>
              <td>{new Date(a.at).toLocaleString()}</td><td>{a.actor.email ?? a.actor.id ?? 'system'}</td><td>{a.action}</td>
              <td>{a.target.type} {a.target.id}</td><td className="small">{show(a.before)}</td><td className="small">{show(a.after)}</td>
            </tr>
          ))}</tbody>
        </table>
      </div>
      <nav aria-label="Pages" className="pager">
        <button className="secondary" disabled={!pages.length} onClick={() => setPages(pages.slice(0, -1))}>Newer</button>
        <button className="secondary" disabled={!q.data?.next_cursor} onClick={() => setPages([...pages, q.data?.next_cursor ?? ''])}>Older</button>
      </nav>
    </section>
  );
}
