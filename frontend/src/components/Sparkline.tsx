import { memo } from 'react';

interface Props {
  values: number[];
  /** Fixed top of the scale (e.g. 100 for percentages); default: the data's max. */
  max?: number;
  width?: number;
  height?: number;
  color?: string;
  testId?: string;
  label?: string;
}

export function points(values: number[], width: number, height: number, max?: number): string {
  if (values.length === 0) return '';
  const top = max ?? Math.max(1e-9, ...values);
  const n = values.length;
  const dx = n > 1 ? width / (n - 1) : 0;
  return values
    .map((v, i) => {
      const y = height - (Math.max(0, Math.min(v, top)) / top) * (height - 2) - 1;
      return `${(i * dx).toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/** A small inline SVG line chart (no axes). */
export const Sparkline = memo(function Sparkline({ values, max, width = 120, height = 28, color = '#5eb0ff', testId, label }: Props) {
  return (
    <svg
      className="spark"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      data-testid={testId}
      data-points={values.length}
      role="img"
      aria-label={label}
    >
      {values.length > 1 ? (
        <polyline points={points(values, width, height, max)} fill="none" stroke={color} strokeWidth={1.5} />
      ) : (
        <line x1={0} x2={width} y1={height - 1} y2={height - 1} stroke="#333b47" />
      )}
    </svg>
  );
});

interface ChartProps {
  title: string;
  series: { name: string; values: number[]; color: string }[];
  max?: number;
  format: (v: number) => string;
  testId?: string;
}

/** A larger chart with its current value and scale. */
export const Chart = memo(function Chart({ title, series, max, format, testId }: ChartProps) {
  const w = 360;
  const h = 90;
  const all = series.flatMap((s) => s.values);
  const top = max ?? Math.max(1e-9, ...all);
  return (
    <div className="chart" data-testid={testId}>
      <div className="chart-head">
        <span>{title}</span>
        <span className="muted">
          {series.map((s) => (
            <span key={s.name} style={{ color: s.color, marginLeft: 8 }}>
              {s.name} {s.values.length ? format(s.values[s.values.length - 1]) : '–'}
            </span>
          ))}
        </span>
      </div>
      <svg width="100%" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" className="chart-svg">
        <line x1={0} x2={w} y1={1} y2={1} className="grid" />
        <line x1={0} x2={w} y1={h / 2} y2={h / 2} className="grid" />
        <line x1={0} x2={w} y1={h - 1} y2={h - 1} className="grid" />
        {series.map((s) =>
          s.values.length > 1 ? (
            <polyline key={s.name} points={points(s.values, w, h, top)} fill="none" stroke={s.color} strokeWidth={1.5} vectorEffect="non-scaling-stroke" />
          ) : null,
        )}
      </svg>
      <div className="chart-foot muted">
        <span>max {format(top)}</span>
        <span>{all.length ? `${series[0].values.length} samples` : 'no samples yet'}</span>
      </div>
    </div>
  );
});
