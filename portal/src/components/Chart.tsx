import { useEffect, useRef, useState } from 'preact/hooks';

export interface BarDatum { key: string; value: number }

/**
 * A bar chart drawn by ECharts, which is loaded only when a chart is first shown (its own chunk,
 * with only the bar chart, grid and tooltip registered). The numbers are also in a table for
 * screen readers and for anyone who wants to copy them.
 */
export function BarChart(props: { title: string; data: BarDatum[]; unit: string; onSelect?: (key: string) => void }) {
  const el = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let disposed = false;
    let chart: { dispose(): void; resize(): void } | null = null;
    const onResize = () => chart?.resize();
    import('./echarts').then(({ echarts }) => {
      if (disposed || !el.current) return;
      const c = echarts.init(el.current, undefined, { renderer: 'canvas' });
      c.setOption({
        animation: false,
        grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        // The unit is in the caption; an axis name would be clipped at the chart's edge.
        xAxis: { type: 'value' },
        yAxis: { type: 'category', data: props.data.map((d) => d.key), inverse: true },
        series: [{ type: 'bar', name: props.unit, data: props.data.map((d) => d.value), itemStyle: { color: '#1f6f8b' } }],
      });
      if (props.onSelect) c.on('click', (p: { name: string }) => props.onSelect!(p.name));
      chart = c;
      window.addEventListener('resize', onResize);
    }, (err) => setError(`chart unavailable: ${err.message}`));
    return () => { disposed = true; window.removeEventListener('resize', onResize); chart?.dispose(); };
  }, [JSON.stringify(props.data), props.unit]);
  const height = Math.max(120, props.data.length * 26 + 40);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      {error ? <p class="error">{error}</p> : <div ref={el} class="chart-canvas" style={{ height: `${height}px` }} role="img" aria-label={`${props.title}: bar chart; the same numbers are in the table below`} />}
      <details>
        <summary>Table</summary>
        <table><thead><tr><th scope="col">{props.title.split(' by ')[1] ?? 'key'}</th><th scope="col">{props.unit}</th></tr></thead>
          <tbody>{props.data.map((d) => <tr key={d.key}><td>{d.key}</td><td class="num">{d.value.toLocaleString()}</td></tr>)}</tbody></table>
      </details>
    </figure>
  );
}
