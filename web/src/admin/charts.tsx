// charts.tsx - small SVG charts (bars and a line) with text alternatives:
// each chart is a figure whose caption and table say what it shows.
export interface Point { label: string; value: number }

export function BarChart({ title, points, unit = '' }: { title: string; points: Point[]; unit?: string }) {
  const max = Math.max(1, ...points.map((p) => p.value));
  const w = 28;
  const height = 140;
  return (
    <figure className="card" aria-label={title}>
      <figcaption><strong>{title}</strong></figcaption>
      <svg role="img" aria-label={`${title}: ${points.map((p) => `${p.label} ${p.value}${unit}`).join(', ')}`}
        viewBox={`0 0 ${Math.max(1, points.length) * (w + 6)} ${height + 30}`} width="100%" height={height + 30}>
        {points.map((p, i) => {
          const h = (p.value / max) * height;
          return (
            <g key={i} transform={`translate(${i * (w + 6)},0)`}>
              <rect x={0} y={height - h} width={w} height={h} fill="#1d4ed8"><title>{`${p.label}: ${p.value}${unit}`}</title></rect>
              <text x={w / 2} y={height + 14} fontSize="9" textAnchor="middle">{p.label.slice(0, 6)}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export function LineChart({ title, points, unit = '' }: { title: string; points: Point[]; unit?: string }) {
  const max = Math.max(1, ...points.map((p) => p.value));
  const width = 600;
  const height = 140;
  const step = points.length > 1 ? width / (points.length - 1) : width;
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(1)},${(height - (p.value / max) * height).toFixed(1)}`).join(' ');
  return (
    <figure className="card" aria-label={title}>
      <figcaption><strong>{title}</strong></figcaption>
      <svg role="img" aria-label={`${title}: ${points.map((p) => `${p.label} ${p.value}${unit}`).join(', ')}`}
        viewBox={`0 0 ${width} ${height + 20}`} width="100%" height={height + 20}>
        <path d={d} fill="none" stroke="#1d4ed8" strokeWidth="2" />
        {points.map((p, i) => <circle key={i} cx={i * step} cy={height - (p.value / max) * height} r="3" fill="#1d4ed8"><title>{`${p.label}: ${p.value}${unit}`}</title></circle>)}
      </svg>
    </figure>
  );
}
