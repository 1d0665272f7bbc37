// ErrorNote.tsx - an API error as a person reads it: the message, what it
// concerns, and the trace id to quote to support. Never a blank page.
import { ApiError } from '../api/client';

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  return (
    <div role="alert" className="error">
      <strong>{e ? e.message : String((error as Error)?.message ?? error)}</strong>
      {e?.details ? <span> ({e.details})</span> : null}
      {e?.traceId ? <div className="trace">Trace id: {e.traceId}</div> : null}
    </div>
  );
}
