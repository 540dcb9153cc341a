import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import {
  chart,
  defaultPair,
  headline,
  noShowByVersion,
  type Cell,
  type Chart,
  type OperationsRow,
  type ShareCell,
  type Statistic,
  type VersionReport,
} from '../lib/outcomes.js';
import { ErrorBox, Spinner } from '../ui/kit.js';

/** The protocol's versions side by side: headline figures and craving and COWS by infusion (clinicians and admins). */
export function Outcomes({ id }: { id: string }) {
  const [report, setReport] = useState<{ period: { from: string; to: string }; versions: VersionReport[] } | null>(
    null,
  );
  const [noShow, setNoShow] = useState<Map<number, Cell<ShareCell>>>(new Map());
  const [pair, setPair] = useState<number[]>([]);
  const [statistic, setStatistic] = useState<Statistic>('median');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<{ period: { from: string; to: string }; versions: VersionReport[] }>(`/protocols/${id}/outcomes`)
      .then(async (r) => {
        // The no-show rate is the operations report's, over the same period; both shown together.
        const ops = await get<{ rows: OperationsRow[] }>('/outcomes/operations', r.period);
        setNoShow(noShowByVersion(ops.rows, id));
        setPair(defaultPair(r.versions));
        setReport(r);
      })
      .catch(setError);
  }, [id]);
  if (error) return <ErrorBox error={error} />;
  if (!report) return <Spinner label="Loading outcomes…" />;
  const shown = pair
    .map((v) => report.versions.find((x) => x.version === v))
    .filter((v): v is VersionReport => v !== undefined);
  const pick = (i: number) => (e: Event) => {
    const next = [...pair];
    next[i] = Number((e.target as HTMLSelectElement).value);
    setPair(next);
  };
  const figures = shown.map((v) => headline(v, noShow.get(v.version)));
  const charts = [
    ['craving', 'Craving (0–10)'],
    ['cows', 'COWS (0–48)'],
  ] as const;
  const drawn = charts.map(([m, title]) => ({ m, title, c: chart(shown, m, statistic) }));
  return (
    <section class="outcomes" aria-labelledby="outcomes-title" data-testid="outcomes">
      <h3 id="outcomes-title">Outcomes by version</h3>
      <p class="muted small">
        Plans whose first session fell from {report.period.from} to {report.period.to}. A figure describing fewer than 5
        patients is never shown.
      </p>
      {report.versions.length < 1 ? (
        <p class="muted">No published version yet.</p>
      ) : (
        <>
          <div class="row">
            {pair.map((v, i) => (
              <label key={i} class="inline">
                {i === 0 ? 'Compare version' : 'with version'}{' '}
                <select value={String(v)} onChange={pick(i)}>
                  {report.versions.map((x) => (
                    <option key={x.version} value={String(x.version)}>
                      {x.version}
                    </option>
                  ))}
                </select>
              </label>
            ))}
            <label class="inline">
              Charts show the{' '}
              <select
                value={statistic}
                onChange={(e) => setStatistic((e.target as HTMLSelectElement).value as Statistic)}
              >
                <option value="median">median</option>
                <option value="mean">mean</option>
              </select>
            </label>
          </div>
          <table class="list compare" data-testid="outcomes-figures">
            <thead>
              <tr>
                <th scope="col">Figure</th>
                {shown.map((v) => (
                  <th scope="col" key={v.version}>
                    Version {v.version}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {figures[0]?.map((f, r) => (
                <tr key={f.label}>
                  <th scope="row">{f.label}</th>
                  {figures.map((fs, k) => (
                    <td key={k} class={fs[r].suppressed ? 'muted' : ''}>
                      {fs[r].text}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <div class="charts">
            {drawn.map(({ m, title, c }) => (
              <LineChart key={m} measure={m} title={title} statistic={statistic} chart={c} />
            ))}
          </div>
          {drawn.some((d) => d.c.hasGaps) ? (
            <p class="muted small" data-testid="gap-note">
              A gap in a line is an infusion whose figure describes fewer than 5 patients: it is suppressed, not zero.
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}

/** A small line chart, one line per version (solid circles, dashed squares), with its figures as its text equivalent. */
function LineChart({
  measure,
  title,
  statistic,
  chart: c,
}: {
  measure: string;
  title: string;
  statistic: Statistic;
  chart: Chart;
}) {
  const said = c.series
    .map(
      (s) =>
        `version ${s.version}: ${s.values.map((v) => `infusion ${v.infusion} ${v.value === null ? 'no figure' : v.value}`).join(', ')}`,
    )
    .join('; ');
  return (
    <figure class="outcome-chart" data-testid={`chart-${measure}`}>
      <figcaption>
        {title}, {statistic} by infusion
      </figcaption>
      <svg
        width={c.width}
        height={c.height}
        viewBox={`0 0 ${c.width} ${c.height}`}
        role="img"
        aria-label={`${title}, ${statistic} by infusion: ${said}`}
      >
        {c.yTicks.map((t) => (
          <g key={t.value} class="grid">
            <line x1={c.plot.left} x2={c.plot.right} y1={t.y} y2={t.y} />
            <text x={c.plot.left - 6} y={t.y + 4} text-anchor="end">
              {t.value}
            </text>
          </g>
        ))}
        {c.xTicks.map((t) => (
          <text key={t.infusion} class="xtick" x={t.x} y={c.plot.bottom + 14} text-anchor="middle">
            {t.infusion}
          </text>
        ))}
        <text class="xtick" x={(c.plot.left + c.plot.right) / 2} y={c.height - 2} text-anchor="middle">
          infusion
        </text>
        {c.series.map((s, k) => (
          <g key={s.version} class={`series s${k}`} data-version={s.version}>
            {s.segments.map((seg, i) =>
              seg.length > 1 ? <polyline key={i} points={seg.map((p) => `${p.x},${p.y}`).join(' ')} /> : null,
            )}
            {s.points.map((p) =>
              k === 0 ? (
                <circle key={p.infusion} class="pt" cx={p.x} cy={p.y} r="3.5">
                  <title>{`Version ${s.version}, infusion ${p.infusion}: ${p.value}`}</title>
                </circle>
              ) : (
                <rect key={p.infusion} class="pt" x={p.x - 3.5} y={p.y - 3.5} width="7" height="7">
                  <title>{`Version ${s.version}, infusion ${p.infusion}: ${p.value}`}</title>
                </rect>
              ),
            )}
          </g>
        ))}
      </svg>
      <ul class="legend plain">
        {c.series.map((s, k) => (
          <li key={s.version}>
            <span class={`swatch s${k}`} aria-hidden="true" /> Version {s.version}
            {s.gaps.length ? <span class="muted"> (no figure at infusion {s.gaps.join(', ')})</span> : null}
          </li>
        ))}
      </ul>
    </figure>
  );
}
