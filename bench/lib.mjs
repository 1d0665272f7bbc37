// lib.mjs - what the bench drivers share: a JSON client of the public API
// and the demo admin's sign-in.

// A client of BASE_URL/api/v1: json(path, init) answers {status, cache
// (X-Cache), body (parsed JSON or null)}.
export function apiClient(baseUrl) {
  const base = `${baseUrl}/api/v1`;
  return async (path, init = {}) => {
    const r = await fetch(`${base}${path}`, {
      ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    const text = await r.text();
    return { status: r.status, cache: r.headers.get('x-cache'), body: text ? JSON.parse(text) : null };
  };
}

// The demo admin's authorization header (SHOPSPHERE_ADMIN_EMAIL /
// SHOPSPHERE_ADMIN_PASSWORD), or exits with why.
export async function adminHeaders(json, who) {
  const login = await json('/auth/login', {
    method: 'POST',
    body: JSON.stringify({ email: process.env.SHOPSPHERE_ADMIN_EMAIL, password: process.env.SHOPSPHERE_ADMIN_PASSWORD }),
  });
  if (login.status !== 200) {
    console.error(`${who}: admin login failed (${login.status})`);
    process.exit(1);
  }
  return { authorization: `Bearer ${login.body.access_token}` };
}
