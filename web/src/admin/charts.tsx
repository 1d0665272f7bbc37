// charts.tsx - small SVG charts (bars and a line) with text alternatives:
// each chart is a figure whose caption and accessible name say what it
// shows. Named bars (products, statuses) are drawn across, so every label
// is shown whole; short labels (hours) stand under upright bars.
export interface Point { label: string; value: number }

const describe = (title: string, points: Point[], unit: string) =>
  points.length === 0 ? `${title}: no data yet` : `${title}: ${points.map((p) => `${p.label} ${p.value}${unit}`).join(', ')}`;

/** Upright bars for short labels (hours, days); every few labels shown
 *  whole so they never overlap. */
export function BarChart({ title, points, unit = '' }: { title: string; points: Point[]; unit?: string }) {
  const max = Math.max(1, ...points.map((p) => p.value));
  const width = 360;
  const height = 140;
  const slot = width / Math.max(1, points.length);
  const every = Math.max(1, Math.ceil(points.length / 8));
  return (
    <figure className="card chart" aria-label={title}>
      <figcaption><strong>{title}</strong></figcaption>
      <svg role="img" aria-label={describe(title, points, unit)} viewBox={`0 0 ${width} ${height + 22}`} width="100%">
        {points.map((p, i) => {
          const h = (p.value / max) * height;
          return (
            <g key={i} transform={`translate(${i * slot},0)`}>
              <rect x={1} y={height - h} width={Math.max(1, slot - 2)} height={h} fill="#1d4ed8"><title>{`${p.label}: ${p.value}${unit}`}</title></rect>
              {i % every === 0 ? <text x={slot / 2} y={height + 16} fontSize="12" textAnchor="middle">{p.label}</text> : null}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** Bars across for named things: the whole label on its own line above
 *  each bar, the value at the bar's end. */
export function HBarChart({ title, points, unit = '' }: { title: string; points: Point[]; unit?: string }) {
  const max = Math.max(1, ...points.map((p) => p.value));
  const width = 360;
  const row = 38;
  return (
    <figure className="card chart" aria-label={title}>
      <figcaption><strong>{title}</strong></figcaption>
      {points.length === 0 ? <p className="muted">No data yet.</p> : null}
      <svg role="img" aria-label={describe(title, points, unit)}
        viewBox={`0 0 ${width} ${Math.max(1, points.length) * row}`} width="100%">
        {points.map((p, i) => {
          const w = Math.max(2, (p.value / max) * (width - 70));
          return (
            <g key={i} transform={`translate(0,${i * row})`}>
              <text x={0} y={13} fontSize="13">{p.label}</text>
              <rect x={0} y={18} width={w} height={14} fill="#1d4ed8"><title>{`${p.label}: ${p.value}${unit}`}</title></rect>
              <text x={w + 4} y={30} fontSize="12">{`${p.value}${unit}`}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export function LineChart({ title, points, unit = '' }: { title: string; points: Point[]; unit?: string }) {
  const max = Math.max(1, ...points.map((p) => p.value));
  const width = 360;
  const height = 130;
  const pad = 16;
  const step = points.length > 1 ? (width - 2 * pad) / (points.length - 1) : 0;
  const x = (i: number) => pad + i * step;
  const y = (v: number) => 6 + height - (v / max) * height;
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const every = Math.max(1, Math.ceil(points.length / 5));
  // The last label always shows; one that would crowd it gives way.
  const shown = (i: number) => i === points.length - 1 || (i % every === 0 && points.length - 1 - i >= every / 2 + 0.5);
  return (
    <figure className="card chart" aria-label={title}>
      <figcaption><strong>{title}</strong></figcaption>
      <svg role="img" aria-label={describe(title, points, unit)}
        viewBox={`0 0 ${width} ${height + 30}`} width="100%">
        <path d={d} fill="none" stroke="#1d4ed8" strokeWidth="2" />
        {points.map((p, i) => <circle key={i} cx={x(i)} cy={y(p.value)} r="3" fill="#1d4ed8"><title>{`${p.label}: ${p.value}${unit}`}</title></circle>)}
        {points.map((p, i) => (shown(i) ? (
          <text key={`l${i}`} x={x(i)} y={height + 26} fontSize="13" textAnchor={i === 0 ? 'start' : i === points.length - 1 ? 'end' : 'middle'}>{p.label}</text>
        ) : null))}
      </svg>
    </figure>
  );
}
