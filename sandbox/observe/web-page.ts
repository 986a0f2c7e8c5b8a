/** The web view's single page: plain HTML, CSS and a script that renders each sample from /api/stream (no build step, no dependency). */
export const WEB_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Meshwork sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #1d2330; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 1rem 0 0.2rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 0.4rem; }
  #status { color: #5a6270; } #status.stale { color: #b3261e; }
  table { border-collapse: collapse; background: white; min-width: 40rem; }
  th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e3e6eb; text-align: left; vertical-align: top; }
  th { font-weight: 600; background: #eef0f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .sub td { color: #5a6270; font-size: 0.92em; } .sub td:first-child { padding-left: 1.6rem; }
  .code { display: inline-block; margin: 0 0.2rem 0.1rem 0; padding: 0 0.35rem; border-radius: 3px; background: #fde7e5; color: #8c1d18; font-size: 0.85em; }
  .bar { position: relative; width: 9rem; height: 0.8rem; background: #e3e6eb; border-radius: 3px; display: inline-block; vertical-align: middle; margin-right: 0.4rem; }
  .bar > span { position: absolute; left: 0; top: 0; bottom: 0; background: #3b6fd8; border-radius: 3px; } .bar.over > span { background: #c2410c; }
  .plots { display: flex; flex-wrap: wrap; gap: 1rem; } figure { margin: 0; background: white; padding: 0.5rem; border: 1px solid #e3e6eb; }
  figcaption { font-size: 0.85em; color: #5a6270; } .legend span { margin-right: 0.7rem; font-size: 0.85em; }
  pre { background: white; padding: 0.6rem; border: 1px solid #e3e6eb; overflow-x: auto; }
  a { color: #3b6fd8; cursor: pointer; }
</style>
</head>
<body>
<h1>Meshwork sandbox</h1>
<div id="status">connecting…</div>
<h2>Actors</h2>
<table id="actors"><thead><tr><th>actor / endpoint</th><th>replicas</th><th>instances</th><th>req/s</th><th>errors/s</th><th>avg ms (server)</th><th>errors by code (callers)</th><th>p50 / p99 ms (callers)</th></tr></thead><tbody></tbody></table>
<div class="plots"><figure><svg id="plot-rps" width="460" height="150"></svg><figcaption>requests per second by actor</figcaption><div class="legend" id="legend-rps"></div></figure>
<figure><svg id="plot-lag" width="460" height="150"></svg><figcaption>consumer lag (pending + unacknowledged) by durable</figcaption><div class="legend" id="legend-lag"></div></figure></div>
<h2>Consumers</h2>
<table id="consumers"><thead><tr><th>stream</th><th>durable</th><th>pending</th><th>unacknowledged</th><th>redelivered</th></tr></thead><tbody></tbody></table>
<h2>Tenants</h2>
<table id="tenants"><thead><tr><th>tenant</th><th>spend / budget</th><th>tokens per minute / limit</th><th>OVER_BUDGET</th><th>RATE_LIMITED</th></tr></thead><tbody></tbody></table>
<div class="plots"><figure><svg id="plot-spend" width="460" height="150"></svg><figcaption>spend by tenant, USD</figcaption><div class="legend" id="legend-spend"></div></figure></div>
<h2>Recent dead letters</h2>
<table id="dead-letters"><thead><tr><th>when</th><th>durable</th><th>subject</th><th>tenant</th><th>deliveries</th><th>reason</th></tr></thead><tbody></tbody></table>
<h2>Recent traces</h2>
<div id="traces"></div>
<pre id="trace" hidden></pre>
<script>
const COLORS = ["#3b6fd8", "#c2410c", "#15803d", "#7e22ce", "#b45309", "#0e7490", "#be123c", "#4d7c0f"];
const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fixed = (n, digits = 1) => (n === null || n === undefined ? "-" : Number(n).toFixed(digits));
function bar(value, limit) {
  const share = limit > 0 ? Math.min(1, value / limit) : 0;
  return '<span class="bar' + (value >= limit && limit > 0 ? " over" : "") + '"><span style="width:' + (share * 100).toFixed(1) + '%"></span></span>';
}
function plot(id, series) {
  const svg = document.getElementById(id); const w = +svg.getAttribute("width"); const h = +svg.getAttribute("height");
  const names = Object.keys(series); const max = Math.max(1e-9, ...names.flatMap((n) => series[n]));
  let out = '<line x1="0" y1="' + (h - 1) + '" x2="' + w + '" y2="' + (h - 1) + '" stroke="#c9ced6"/><text x="4" y="12" font-size="10" fill="#5a6270">' + fixed(max, max < 10 ? 2 : 0) + "</text>";
  names.forEach((name, i) => {
    const values = series[name]; if (values.length < 2) return;
    const points = values.map((v, x) => (x * (w - 4) / (values.length - 1) + 2).toFixed(1) + "," + (h - 2 - (v / max) * (h - 18)).toFixed(1)).join(" ");
    out += '<polyline fill="none" stroke-width="1.6" stroke="' + COLORS[i % COLORS.length] + '" points="' + points + '"><title>' + esc(name) + "</title></polyline>";
  });
  svg.innerHTML = out;
  document.getElementById(id.replace("plot", "legend")).innerHTML = names.map((n, i) => '<span style="color:' + COLORS[i % COLORS.length] + '">■ ' + esc(n) + "</span>").join("");
}
function render(sample) {
  const status = document.getElementById("status");
  status.className = ""; status.dataset.sequence = sample.sequence;
  status.textContent = "updated " + new Date(sample.at).toLocaleTimeString() + " (sample " + sample.sequence + ")";
  document.querySelector("#actors tbody").innerHTML = sample.actors.map((a) => {
    const rps = a.endpoints.reduce((s, e) => s + e.requestsPerSecond, 0); const eps = a.endpoints.reduce((s, e) => s + e.errorsPerSecond, 0);
    const codes = Object.entries(a.errorsByCode).map(([code, n]) => '<span class="code">' + esc(code) + " " + n + "</span>").join("");
    return '<tr data-actor="' + esc(a.actor) + '"><td><b>' + esc(a.actor) + "</b></td><td>" + a.ready + "/" + a.desired + (a.restarts ? " (" + a.restarts + " restarts)" : "") +
      '</td><td class="num">' + a.instances + '</td><td class="num">' + fixed(rps) + '</td><td class="num">' + fixed(eps, 2) + "</td><td></td><td>" + codes + "</td><td>" + fixed(a.p50Ms) + " / " + fixed(a.p99Ms) + "</td></tr>" +
      a.endpoints.map((e) => '<tr class="sub" data-endpoint="' + esc(e.subject) + '"><td>' + esc(e.subject) + '</td><td></td><td class="num">' + e.instances + '</td><td class="num">' + fixed(e.requestsPerSecond) +
        '</td><td class="num">' + fixed(e.errorsPerSecond, 2) + '</td><td class="num">' + fixed(e.averageMs, 2) + "</td><td></td><td></td></tr>").join("");
  }).join("");
  document.querySelector("#consumers tbody").innerHTML = sample.consumers.map((c) => '<tr data-durable="' + esc(c.consumer) + '"><td>' + esc(c.stream) + "</td><td>" + esc(c.consumer) +
    '</td><td class="num">' + c.pending + '</td><td class="num">' + c.ackPending + '</td><td class="num">' + c.redelivered + "</td></tr>").join("");
  document.querySelector("#tenants tbody").innerHTML = sample.tenants.map((t) => '<tr data-tenant="' + esc(t.tenant) + '"><td><b>' + esc(t.tenant) + "</b> " + esc(t.role) + "</td><td>" + bar(t.spentUsd, t.budgetUsd) +
    "$" + fixed(t.spentUsd, 4) + " / $" + fixed(t.budgetUsd, 2) + " per " + esc(t.budgetPeriod) + "</td><td>" + bar(t.tokensPerMinute, t.tokensPerMinuteLimit) + fixed(t.tokensPerMinute, 0) + " / " + t.tokensPerMinuteLimit +
    '</td><td class="num">' + t.overBudget + '</td><td class="num">' + t.rateLimited + "</td></tr>").join("");
  document.querySelector("#dead-letters tbody").innerHTML = sample.deadLetters.map((d) => "<tr><td>" + esc(new Date(d.at).toLocaleTimeString()) + "</td><td>" + esc(d.consumer) + "</td><td>" + esc(d.subject) +
    "</td><td>" + esc(d.tenant) + '</td><td class="num">' + d.deliveryCount + "</td><td>" + esc(d.reason) + "</td></tr>").join("") || '<tr><td colspan="6">none</td></tr>';
  document.getElementById("traces").innerHTML = sample.recentTraces.map((id) => '<a data-trace="' + esc(id) + '">' + esc(id) + "</a>").join(" · ") || "none yet";
  plot("plot-rps", sample.history.requestsPerSecond); plot("plot-lag", sample.history.consumerLag); plot("plot-spend", sample.history.spendUsd);
}
document.getElementById("traces").addEventListener("click", async (event) => {
  const id = event.target.dataset && event.target.dataset.trace; if (!id) return;
  const text = await fetch("/api/traces/" + id + "?format=text").then((r) => r.text());
  const pre = document.getElementById("trace"); pre.hidden = false; pre.textContent = text;
});
const stream = new EventSource("/api/stream");
stream.onmessage = (message) => render(JSON.parse(message.data));
stream.onerror = () => { const s = document.getElementById("status"); s.className = "stale"; s.textContent = "disconnected from the sandbox; retrying…"; };
</script>
</body>
</html>
`;
