import { STATUSES, type Finding, type Status } from '../model';
import { countOf, fleetState, headlineOf, topFixGroup, type Unmanaged } from './fleet-state';
import { barChart, escapeHtml, lineChart, PALETTE, stackedBarChart, type Bar } from './svg';

/**
 * The HTML report (DESIGN §8): one self-contained file — inline CSS, SVG and a small script, nothing
 * fetched — that opens with the headline, shows the root causes, the status by rule, the unmanaged
 * nodes by VPC and by account and, when given, their trend over recent runs, then lists the unmanaged
 * nodes in a table that sorts and filters in the browser.
 *
 * Every string from the account (ids, Name tags, messages) is user data: it is escaped in the markup
 * and in the embedded JSON, and the script writes it with textContent only.
 */

export interface TrendPoint {
  /** ISO time of the run. */
  at: string;
  unmanaged: number;
}

export interface HtmlReportInput {
  title: string;
  /** When the report was produced (passed in: the renderer never reads the clock). */
  generatedAt: string;
  findings: readonly Finding[];
  /** Display names: the EC2 Name tag, a hybrid node's name. */
  names?: ReadonlyMap<string, string>;
  /** The VPC of each instance. */
  vpcOf?: ReadonlyMap<string, string>;
  /** Unmanaged nodes over recent runs, any order (drawn oldest first). */
  trend?: readonly TrendPoint[];
  /** Rule titles by rule id (shared/ never imports the rule registry). */
  ruleTitles?: Readonly<Record<string, string>>;
}

/** Bars shown per chart; the rest are summed into one "others" bar. */
const MAX_BARS = 15;

const STATUS_KEYS: readonly { key: Status; label: string; colour: string; textColour?: string }[] = [
  { key: 'FAIL', label: 'FAIL', colour: PALETTE.vermillion },
  { key: 'ERROR', label: 'ERROR', colour: PALETTE.purple },
  { key: 'WARN', label: 'WARN', colour: PALETTE.orange },
  { key: 'PASS', label: 'PASS', colour: PALETTE.green, textColour: '#fff' },
  { key: 'NOT_APPLICABLE', label: 'N/A', colour: PALETTE.grey },
];

/**
 * Counts by key, largest first (ties by key, or in the given order when `ordered`: the root causes keep
 * the text report's order), the tail beyond MAX_BARS as one bar.
 */
function topBars(counts: ReadonlyMap<string, number>, othersNoun: string, ordered = false): Bar[] {
  const bars = [...counts].map(([label, value]) => ({ label, value }));
  const sorted = ordered ? bars : bars.sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
  if (sorted.length <= MAX_BARS) return sorted;
  const rest = sorted.slice(MAX_BARS - 1);
  return [
    ...sorted.slice(0, MAX_BARS - 1),
    { label: `${rest.length} other ${othersNoun}`, value: rest.reduce((n, b) => n + b.value, 0) },
  ];
}

const tally = (keys: Iterable<string>) => {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
};

/** JSON safe inside a <script> element: no `<`, `>` or `&` (so no `</script>`), no line separators. */
export const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** Where a fix names the node it fixes: the node id in a fix template (expanded by the script). */
const ID_MARK = '\u0001';

/**
 * The table's data, compact for 10,000 nodes: repeated strings (account, region, VPC, cause, fix) once
 * in a string table, rows of indexes; a fix that names its node is stored once with the id marked.
 */
function tableData(
  unmanaged: readonly Unmanaged[],
  input: HtmlReportInput,
  vpcLabel: (u: Unmanaged) => string,
) {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const ref = (s: string) => {
    let i = index.get(s);
    if (i === undefined) index.set(s, (i = strings.push(s) - 1));
    return i;
  };
  const rows = unmanaged.map((u) => {
    const f = u.finding;
    const fix = u.cause.remediation.split(f.resourceId).join(ID_MARK);
    return [
      f.resourceId,
      input.names?.get(f.resourceId) ?? '',
      ref(f.accountId),
      ref(f.region),
      ref(vpcLabel(u)),
      ref(`${u.cause.ruleId} ${u.cause.reason}`),
      ref(fix),
    ];
  });
  return { strings, rows, idMark: ID_MARK };
}

export function renderHtmlReport(input: HtmlReportInput): string {
  // Suppressed findings count nowhere in the report's figures (DESIGN §8), as in the text report.
  const findings = input.findings.filter((f) => !f.suppressed);
  const state = fleetState(findings);
  const headline = headlineOf(state);
  const pending = [...state.counted.values()].reduce((n, r) => n + r.pending, 0);
  const top = topFixGroup(state);
  const vpcLabel = (u: Unmanaged) =>
    input.vpcOf?.get(u.finding.resourceId) ??
    (u.finding.resourceType === 'ManagedInstance' ? 'hybrid (no VPC)' : 'VPC unknown');

  const causes = barChart(
    'chart-causes',
    'Unmanaged nodes by root cause',
    topBars(new Map(state.byCause.map((g) => [g.key, g.nodes.length])), 'causes', true),
    PALETTE.vermillion,
  );

  const byRule = new Map<string, Record<Status, number>>();
  for (const f of findings) {
    let row = byRule.get(f.ruleId);
    if (!row) byRule.set(f.ruleId, (row = { PASS: 0, FAIL: 0, WARN: 0, NOT_APPLICABLE: 0, ERROR: 0 }));
    row[f.status] += 1;
  }
  const statusByRule = stackedBarChart(
    'chart-rules',
    'Findings by rule and status',
    [...byRule].map(([ruleId, row]) => ({
      label: ruleId,
      description: input.ruleTitles?.[ruleId],
      segments: STATUSES.map((s) => ({ key: s, value: row[s] })),
    })),
    STATUS_KEYS,
  );
  const byVpc = barChart(
    'chart-vpcs',
    'Unmanaged nodes by VPC',
    topBars(tally(state.unmanaged.map(vpcLabel)), 'VPCs'),
    PALETTE.blue,
  );
  const byAccount = barChart(
    'chart-accounts',
    'Unmanaged nodes by account',
    topBars(tally(state.unmanaged.map((u) => u.finding.accountId)), 'accounts'),
    PALETTE.sky,
  );
  const trend = [...(input.trend ?? [])].sort((a, b) => a.at.localeCompare(b.at));
  const trendChart =
    trend.length > 0
      ? lineChart(
          'chart-trend',
          'Unmanaged nodes over recent runs',
          trend.map((p) => ({ label: p.at.slice(0, 16).replace('T', ' '), value: p.unmanaged })),
        )
      : '';

  const figure = (svg: string, caption: string, note = '') =>
    `<figure>${svg}<figcaption>${escapeHtml(caption)}${note ? ` <span class="note">${escapeHtml(note)}</span>` : ''}</figcaption></figure>`;
  const noVpcs = !input.vpcOf || input.vpcOf.size === 0;

  const counts = [...state.counted]
    .map(
      ([type, row]) =>
        `${countOf(row.total, type === 'EC2Instance' ? 'running instance' : type === 'ManagedInstance' ? 'hybrid node' : 'resource')} (${row.unmanaged} unmanaged)`,
    )
    .join(', ');
  const data = tableData(state.unmanaged, input, vpcLabel);
  const causeOptions = state.byCause
    .map((g) => `<option value="${escapeHtml(g.key)}">${escapeHtml(`${g.key} (${g.nodes.length})`)}</option>`)
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ssm-readiness-auditor">
<title>${escapeHtml(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(input.title)}</h1>
<p class="meta">Generated <time datetime="${escapeHtml(input.generatedAt)}">${escapeHtml(input.generatedAt)}</time>${counts ? ` · ${escapeHtml(counts)}` : ''}</p>
<p id="headline" class="${state.unmanaged.length ? 'bad' : 'good'}">${escapeHtml(
    headline === undefined
      ? 'Managed status not evaluated: the report needs the managed-status rule.'
      : `${headline}.`,
  )}</p>
${pending > 0 ? `<p class="meta">Pending: ${pending} still registering, not counted as unmanaged yet.</p>` : ''}
${
  top
    ? `<div id="top-fix"><h2>Top fix <span class="note">(${escapeHtml(countOf(top.nodes.length, 'node'))}, ${escapeHtml(top.key)})</span></h2><p>${escapeHtml(top.cause.message)}</p><pre><code>${escapeHtml(top.nodes[0]!.cause.remediation)}</code></pre>${new Set(top.nodes.map((n) => n.cause.remediation)).size > 1 ? '<p class="note">The command differs per node: the table below gives each one.</p>' : ''}</div>`
    : ''
}
</header>
<main>
<section class="charts" aria-label="Charts">
${figure(causes, 'Root causes of the unmanaged nodes (the failing prerequisite managed-status names).')}
${figure(statusByRule, 'Findings of each rule by status.')}
${figure(byVpc, 'Unmanaged nodes by VPC.', noVpcs ? 'The VPC of each node was not available to this report.' : '')}
${figure(byAccount, 'Unmanaged nodes by account.')}
${trendChart ? figure(trendChart, 'Unmanaged nodes in the recent runs recorded in the findings table.') : ''}
</section>
<section id="nodes">
<h2>Unmanaged nodes (${state.unmanaged.length})</h2>
<div class="controls">
<label>Filter <input id="filter" type="search" placeholder="id, Name, VPC, cause, command…" autocomplete="off"></label>
<label>Cause <select id="cause"><option value="">every cause</option>${causeOptions}</select></label>
<span id="shown" aria-live="polite"></span>
</div>
<table id="unmanaged">
<thead><tr>${COLUMNS.map((c, i) => `<th scope="col" aria-sort="none" data-col="${i}"><button type="button">${escapeHtml(c)}</button></th>`).join('')}</tr></thead>
<tbody></tbody>
</table>
<noscript><p>The list of unmanaged nodes needs JavaScript; the charts above do not.</p></noscript>
</section>
</main>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const COLUMNS = ['Instance / node', 'Name', 'Account', 'Region', 'VPC', 'Cause', 'Fix'] as const;

const CSS = `
:root{color-scheme:light;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a}
body{margin:0 auto;max-width:1200px;padding:16px 24px}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
.meta,.note{color:#555;font-size:.9rem}
#headline{font-size:1.35rem;font-weight:700;margin:.6rem 0;padding:.5rem .8rem;border-left:6px solid}
#headline.bad{border-color:${PALETTE.vermillion}}#headline.good{border-color:${PALETTE.green}}
#top-fix{background:#f4f7fb;border:1px solid #d6dee8;padding:.2rem .8rem .6rem;border-radius:4px}
pre{white-space:pre-wrap;word-break:break-word;margin:.3rem 0}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
figure{margin:0;border:1px solid #e2e2e2;border-radius:4px;padding:8px;break-inside:avoid}
figcaption{font-size:.9rem;margin-top:4px}
svg.chart{max-width:100%;height:auto;font-size:11px}
svg.chart text{fill:#1a1a1a}svg.chart text.axis{fill:#555}
svg.chart g.bar:hover rect,svg.chart g.segment:hover rect{opacity:.8}
.controls{display:flex;gap:16px;align-items:center;flex-wrap:wrap;margin:.4rem 0}
input,select{font:inherit;padding:3px 6px}#filter{width:22rem;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e2e2e2;padding:4px 6px;text-align:left;vertical-align:top}
th{position:sticky;top:0;background:#fafafa}
th button{all:unset;cursor:pointer;font-weight:700}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
td.id{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
td.fix code{word-break:break-word}td.nw{white-space:nowrap}
tr[hidden]{display:none}
@media print{
body{max-width:none;padding:0;font-size:11px}
.controls,noscript{display:none}
.charts{display:block}figure{margin-bottom:8px;border:none;page-break-inside:avoid}
th{position:static}tr{page-break-inside:avoid}
#top-fix{background:none}
a{color:inherit;text-decoration:none}
}`;

/** Builds the rows from the embedded data (textContent only: user data is never parsed as markup). */
const SCRIPT = `(function(){
"use strict";
var data=JSON.parse(document.getElementById("report-data").textContent);
var S=data.strings,mark=data.idMark;
var rows=data.rows.map(function(r){
  var cells=[r[0],r[1],S[r[2]],S[r[3]],S[r[4]],S[r[5]],S[r[6]].split(mark).join(r[0])];
  var tr=document.createElement("tr");
  cells.forEach(function(text,i){
    var td=document.createElement("td");
    if(i===0)td.className="id";else if(i>1&&i<5)td.className="nw";
    if(i===6){td.className="fix";var code=document.createElement("code");code.textContent=text;td.appendChild(code);}
    else td.textContent=text;
    tr.appendChild(td);
  });
  return {tr:tr,cells:cells,cause:cells[5],text:cells.join("\\n").toLowerCase()};
});
var tbody=document.querySelector("#unmanaged tbody");
var frag=document.createDocumentFragment();
rows.forEach(function(r){frag.appendChild(r.tr);});
tbody.appendChild(frag);
var filter=document.getElementById("filter"),cause=document.getElementById("cause"),shown=document.getElementById("shown");
function apply(){
  var q=filter.value.trim().toLowerCase(),c=cause.value,n=0;
  rows.forEach(function(r){
    var show=(!q||r.text.indexOf(q)!==-1)&&(!c||r.cause===c);
    r.tr.hidden=!show;if(show)n++;
  });
  shown.textContent="Showing "+n+" of "+rows.length;
}
filter.addEventListener("input",apply);cause.addEventListener("change",apply);
var ths=document.querySelectorAll("#unmanaged th");
Array.prototype.forEach.call(ths,function(th){
  th.querySelector("button").addEventListener("click",function(){
    var col=Number(th.getAttribute("data-col"));
    var dir=th.getAttribute("aria-sort")==="ascending"?"descending":"ascending";
    Array.prototype.forEach.call(ths,function(o){o.setAttribute("aria-sort","none");});
    th.setAttribute("aria-sort",dir);
    var sign=dir==="ascending"?1:-1;
    rows.sort(function(a,b){return sign*a.cells[col].localeCompare(b.cells[col],undefined,{numeric:true})||a.cells[0].localeCompare(b.cells[0]);});
    var f=document.createDocumentFragment();
    rows.forEach(function(r){f.appendChild(r.tr);});
    tbody.appendChild(f);
  });
});
apply();
})();`;
