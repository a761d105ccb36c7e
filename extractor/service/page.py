"""The page at `/`: jobs and their progress, self-contained (no asset from the internet).

The page itself is public and holds no data: it asks for the API key (or reads it from the
URL fragment `#key=...`, which browsers never send to the server), keeps it in
sessionStorage and calls `/v1` with it.
"""

from __future__ import annotations

CSS = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}th,td{padding:.35em .6em;border-bottom:1px solid #ddd;text-align:left}
.bar{background:#eee;width:12em;height:.8em;border-radius:.4em;overflow:hidden;display:inline-block}
.bar i{display:block;height:100%;background:#3a7}.bar i.f{background:#c44;float:left}
#error{color:#b00}code{background:#f4f4f4;padding:0 .3em}
"""

JS = """
const keyFrom = () => {
  const m = location.hash.match(/key=([^&]+)/);
  if (m) { sessionStorage.setItem('extractor-key', decodeURIComponent(m[1])); history.replaceState(null, '', location.pathname); }
  return sessionStorage.getItem('extractor-key') || '';
};
let key = keyFrom();
const headers = () => key ? {Authorization: 'Bearer ' + key} : {};
const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
async function openAuthed(path, type) {
  const r = await fetch(path, {headers: headers()});
  const blob = new Blob([await r.text()], {type});
  location.href = URL.createObjectURL(blob);
}
function row(j) {
  const c = j.counts, t = Math.max(c.total, 1);
  const done = 100 * c.done / t, failed = 100 * c.failed / t;
  return `<tr data-job="${esc(j.id)}" data-status="${esc(j.status)}"><td><code>${esc(j.id)}</code></td>` +
    `<td class="status">${esc(j.status)}</td>` +
    `<td><span class="bar"><i class="f" style="width:${failed}%"></i><i style="width:${done}%"></i></span> ` +
    `<span class="progress">${c.done + c.failed} / ${c.total}</span> (${c.failed} failed)</td>` +
    `<td>${esc(j.created_at)}</td>` +
    `<td><a href="#" onclick="openAuthed('/v1/jobs/${esc(j.id)}/review','text/html');return false">review</a> ` +
    `<a href="#" onclick="openAuthed('/v1/jobs/${esc(j.id)}/results','text/plain');return false">results</a></td></tr>`;
}
async function refresh() {
  const err = document.getElementById('error');
  try {
    const r = await fetch('/v1/jobs', {headers: headers()});
    if (r.status === 401) { err.textContent = 'Enter an API key.'; return; }
    const data = await r.json();
    err.textContent = '';
    document.getElementById('jobs').innerHTML = data.data.map(row).join('') ||
      '<tr><td colspan="5">No jobs yet.</td></tr>';
  } catch (e) { err.textContent = 'Cannot reach the service: ' + e; }
}
document.getElementById('keyform').addEventListener('submit', ev => {
  ev.preventDefault();
  key = document.getElementById('key').value.trim();
  sessionStorage.setItem('extractor-key', key);
  refresh();
});
refresh();
setInterval(refresh, 2000);
"""

INDEX_HTML = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>extractor service</title>'
    f"<style>{CSS}</style></head><body><h1>extractor: jobs</h1>"
    '<form id="keyform"><label>API key <input id="key" type="password" autocomplete="off"></label> '
    '<button>Use</button></form><p id="error"></p>'
    "<table><thead><tr><th>job</th><th>status</th><th>progress</th><th>created</th><th></th></tr></thead>"
    f'<tbody id="jobs"></tbody></table><script>{JS}</script></body></html>\n'
)
