/**
 * Hand-built inline SVG charts for the HTML report: horizontal bars, stacked horizontal bars and a line
 * over time. Small on purpose (no charting library to inline): every bar is a `<g class="bar">` with a
 * `<title>` (the exact figure, read by screen readers and shown on hover), its label as text beside it
 * — colour is never the only carrier of meaning — and the chart itself a `role="img"` with a title.
 */

/** Escapes text for HTML and SVG content and attribute values (both quotes included). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Okabe & Ito's colour-blind safe palette (Color Universal Design, 2008): distinguishable with
 * protanopia, deuteranopia and tritanopia, and in grey print by lightness.
 */
export const PALETTE = {
  orange: '#E69F00',
  sky: '#56B4E9',
  green: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  grey: '#999999',
  black: '#000000',
} as const;

export interface Bar {
  label: string;
  value: number;
}

export interface Segment {
  key: string;
  value: number;
}

export interface StackedRow {
  label: string;
  /** A longer name (a rule's title), in the row label's <title>. */
  description?: string;
  segments: Segment[];
}

const WIDTH = 720;
const LABEL_WIDTH = 310;
const ROW = 26;
const BAR = 18;
const TOP = 8;

/** A label cut to fit its column; the full text stays in the bar's <title>. */
const shortened = (label: string, chars = 42) => (label.length > chars ? `${label.slice(0, chars - 1)}…` : label);

const fmt = (n: number) => String(Math.round(n * 10) / 10);

function svgOpen(id: string, title: string, height: number): string {
  return `<svg id="${escapeHtml(id)}" class="chart" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-labelledby="${escapeHtml(id)}-title" xmlns="http://www.w3.org/2000/svg"><title id="${escapeHtml(id)}-title">${escapeHtml(title)}</title>`;
}

/** Horizontal bars, largest first as given; the value is written at the end of each bar. */
export function barChart(
  id: string,
  title: string,
  bars: readonly Bar[],
  colour: string = PALETTE.blue,
): string {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const room = WIDTH - LABEL_WIDTH - 60;
  const height = TOP * 2 + ROW * Math.max(1, bars.length);
  const rows = bars.map((b, i) => {
    const y = TOP + i * ROW;
    const w = Math.max(1, (b.value / max) * room);
    return (
      `<g class="bar" data-label="${escapeHtml(b.label)}" data-value="${b.value}"><title>${escapeHtml(`${b.label}: ${b.value}`)}</title>` +
      `<text x="${LABEL_WIDTH - 8}" y="${y + BAR - 5}" text-anchor="end">${escapeHtml(shortened(b.label))}</text>` +
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${fmt(w)}" height="${BAR}" fill="${colour}"/>` +
      `<text x="${fmt(LABEL_WIDTH + w + 6)}" y="${y + BAR - 5}" class="value">${b.value}</text></g>`
    );
  });
  const empty = bars.length === 0 ? `<text x="8" y="${TOP + BAR - 5}">nothing to show</text>` : '';
  return `${svgOpen(id, title, height)}${rows.join('')}${empty}</svg>`;
}

/**
 * One horizontal bar per row, split into segments in `keys` order, with a legend. A segment wide
 * enough carries its figure; every one has a <title> with its key and figure.
 */
export function stackedBarChart(
  id: string,
  title: string,
  rows: readonly StackedRow[],
  keys: readonly { key: string; label: string; colour: string; textColour?: string }[],
): string {
  const max = Math.max(1, ...rows.map((r) => r.segments.reduce((n, s) => n + s.value, 0)));
  const room = WIDTH - LABEL_WIDTH - 20;
  const legendY = TOP + rows.length * ROW + 8;
  const height = legendY + 24;
  const body = rows.map((r, i) => {
    const y = TOP + i * ROW;
    let x = LABEL_WIDTH;
    const parts = keys.map((k) => {
      const value = r.segments.find((s) => s.key === k.key)?.value ?? 0;
      if (value === 0) return '';
      const w = (value / max) * room;
      const seg =
        `<g class="segment" data-key="${escapeHtml(k.key)}" data-value="${value}"><title>${escapeHtml(`${r.label} — ${k.label}: ${value}`)}</title>` +
        `<rect x="${fmt(x)}" y="${y}" width="${fmt(Math.max(1, w))}" height="${BAR}" fill="${k.colour}"/>` +
        (w >= 8 * String(value).length + 6
          ? `<text x="${fmt(x + w / 2)}" y="${y + BAR - 5}" text-anchor="middle" fill="${k.textColour ?? '#000'}">${value}</text>`
          : '') +
        `</g>`;
      x += w;
      return seg;
    });
    return (
      `<g class="bar" data-label="${escapeHtml(r.label)}"><text x="${LABEL_WIDTH - 8}" y="${y + BAR - 5}" text-anchor="end"><title>${escapeHtml(r.description ? `${r.label} — ${r.description}` : r.label)}</title>${escapeHtml(shortened(r.label))}</text>` +
      `${parts.join('')}</g>`
    );
  });
  let lx = LABEL_WIDTH;
  const legend = keys.map((k) => {
    const item = `<g class="legend-item"><rect x="${lx}" y="${legendY}" width="12" height="12" fill="${k.colour}"/><text x="${lx + 16}" y="${legendY + 11}">${escapeHtml(k.label)}</text></g>`;
    lx += 24 + k.label.length * 7;
    return item;
  });
  return `${svgOpen(id, title, height)}${body.join('')}${legend.join('')}</svg>`;
}

/** A line with a dot and its figure at each point, oldest on the left; labels are short dates. */
export function lineChart(
  id: string,
  title: string,
  points: readonly Bar[],
  colour: string = PALETTE.vermillion,
): string {
  const height = 200;
  const left = 40;
  const right = WIDTH - 30;
  const top = 24;
  const bottom = height - 36;
  const max = Math.max(1, ...points.map((p) => p.value));
  const xOf = (i: number) =>
    points.length === 1 ? (left + right) / 2 : left + (i * (right - left)) / (points.length - 1);
  const yOf = (v: number) => bottom - (v / max) * (bottom - top);
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(xOf(i))} ${fmt(yOf(p.value))}`).join(' ');
  const dots = points.map(
    (p, i) =>
      `<g class="point" data-label="${escapeHtml(p.label)}" data-value="${p.value}"><title>${escapeHtml(`${p.label}: ${p.value} unmanaged`)}</title>` +
      `<circle cx="${fmt(xOf(i))}" cy="${fmt(yOf(p.value))}" r="4" fill="${colour}"/>` +
      `<text x="${fmt(xOf(i))}" y="${fmt(yOf(p.value) - 8)}" text-anchor="middle">${p.value}</text>` +
      `<text x="${fmt(xOf(i))}" y="${height - 14}" text-anchor="middle" class="axis">${escapeHtml(shortened(p.label, 16))}</text></g>`,
  );
  const axis = `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#666"/>`;
  return `${svgOpen(id, title, height)}${axis}<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>${dots.join('')}</svg>`;
}
