// The service's page: submit articles, follow a job, read its results with the evidence
// highlighted, retry its failures, download its results. Plain JavaScript, no build step.
// The API key stays in this tab's sessionStorage; it is never put in a URL.
'use strict';
const KEY = 'extractor-key';
const FINISHED = ['completed', 'completed_with_failures', 'failed', 'cancelled', 'expired'];
const ITEM_KINDS = {exercises: 'exercise', aircraft: 'aircraft', statements: 'statement'};
const $ = id => document.getElementById(id);
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
let key = sessionStorage.getItem(KEY) || '';
let view = {name: null, timer: null, observer: null};

class NeedKey extends Error {}

// crypto.randomUUID exists only on https and localhost; getRandomValues everywhere.
const idempotencyKey = () => 'page-' + Array.from(crypto.getRandomValues(new Uint8Array(16)),
  b => b.toString(16).padStart(2, '0')).join('');

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (key) headers.Authorization = 'Bearer ' + key;
  const response = await fetch(path, Object.assign({}, options, {headers}));
  if (response.status === 401) throw new NeedKey('Enter the API key to continue.');
  if (!response.ok) {
    let detail = response.statusText;
    try { const problem = await response.json(); detail = problem.detail || problem.title || detail; } catch (e) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response;
}

function say(text) { $('message').textContent = text || ''; }

function failed(error) {
  if (error instanceof NeedKey) { say(error.message); $('key').focus(); return; }
  say(String(error.message || error));
}

// -- routing: / (submit, jobs), /jobs/ID (one job; ?job=ID works too) -----------------------

function jobOfLocation() {
  const path = location.pathname.match(/^\/jobs\/([^/]+)$/);
  if (path) return decodeURIComponent(path[1]);
  return new URLSearchParams(location.search).get('job');
}

function go(url) { history.pushState(null, '', url); route(); }

function route() {
  clearInterval(view.timer);
  if (view.observer) view.observer.disconnect();
  view = {name: null, timer: null, observer: null};
  say('');
  const jobId = jobOfLocation();
  $('home').hidden = !!jobId;
  $('job').hidden = !jobId;
  if (jobId) showJob(jobId); else showHome();
}

window.addEventListener('popstate', route);
document.addEventListener('click', event => {
  const link = event.target.closest('a[data-nav]');
  if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey) { event.preventDefault(); go(link.getAttribute('href')); }
});

$('keyform').addEventListener('submit', event => {
  event.preventDefault();
  key = $('key').value.trim();
  $('key').value = '';
  if (key) sessionStorage.setItem(KEY, key); else sessionStorage.removeItem(KEY);
  route();
});
$('forget').addEventListener('click', () => { key = ''; sessionStorage.removeItem(KEY); route(); });

// -- home: the job form and the caller's jobs --------------------------------------------------

function progressBar(bar, counts) {
  const total = Math.max(counts.total, 1);
  bar.querySelector('i.f').style.width = `${100 * counts.failed / total}%`;
  // skipped articles are finished too: they fill the bar with the done ones
  bar.querySelector('i.d').style.width = `${100 * (counts.done + counts.skipped) / total}%`;
}

function jobRow(job) {
  const c = job.counts, link = `/jobs/${encodeURIComponent(job.id)}`;
  const row = document.createElement('tr');
  row.dataset.job = job.id;
  row.dataset.status = job.status;
  row.innerHTML = `<td><a href="${esc(link)}" data-nav><code>${esc(job.id)}</code></a></td>` +
    `<td class="status">${esc(job.status)}</td>` +
    `<td><span class="bar"><i class="f"></i><i class="d"></i></span> ` +
    `<span class="progress">${c.done + c.failed + c.skipped} / ${c.total}</span> (${c.failed} failed` +
    `${c.skipped ? `, ${c.skipped} skipped` : ''})</td>` +
    `<td>${esc(new Date(job.created_at * 1000).toLocaleString())}</td>`;
  progressBar(row.querySelector('.bar'), c);
  return row;
}

async function loadJobs(after) {
  const query = new URLSearchParams({limit: '20'});
  if (after) query.set('after', after);
  const page = await (await api(`/v1/jobs?${query}`)).json();
  const body = $('jobs');
  if (!after) body.replaceChildren();
  page.data.forEach(job => body.appendChild(jobRow(job)));
  if (!body.children.length) body.innerHTML = '<tr><td colspan="4">No jobs yet.</td></tr>';
  $('morejobs').hidden = !page.has_more;
  $('morejobs').onclick = () => loadJobs(page.last_id).catch(failed);
}

function showHome() {
  view.name = 'home';
  const refresh = () => loadJobs().then(() => say(''), failed);
  refresh();
  view.timer = setInterval(() => { if ($('morejobs').hidden) refresh(); }, 3000);
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`cannot read ${file.name}`));
    reader.readAsText(file, 'utf-8');
  });
}

async function jobBody() {
  const text = $('text').value, urls = $('urls').value.split('\n').map(u => u.trim()).filter(Boolean);
  const file = $('file').files[0];
  const articles = [];
  if (text.trim()) {
    const article = {text};
    if ($('title').value.trim()) article.title = $('title').value.trim();
    if ($('published').value) article.published = $('published').value;
    articles.push(article);
  }
  urls.forEach(url => articles.push({url}));
  if (file) {
    const content = await readFile(file);
    if (/\.(jsonl|ndjson)$/i.test(file.name)) {
      if (articles.length) throw new Error('send a .jsonl file on its own');
      return {body: content, type: 'application/x-ndjson'};
    }
    articles.push({id: file.name.replace(/\.txt$/i, ''), text: content});
  }
  if (!articles.length) throw new Error('paste an article, give a URL or choose a file');
  return {body: JSON.stringify({articles}), type: 'application/json'};
}

$('jobform').addEventListener('submit', async event => {
  event.preventDefault();
  const button = $('submitjob');
  button.disabled = true;
  try {
    const {body, type} = await jobBody();
    const query = new URLSearchParams();
    if ($('grounding').value) query.set('grounding', $('grounding').value);
    if ($('triage').checked) query.set('triage', 'true');
    const response = await api('/v1/jobs' + (String(query) ? `?${query}` : ''), {
      method: 'POST', body,
      // a retried click sends the same request: the service answers with the same job
      headers: {'Content-Type': type, 'Idempotency-Key': idempotencyKey()},
    });
    const job = await response.json();
    $('jobform').reset();
    go(`/jobs/${encodeURIComponent(job.id)}`);
  } catch (error) { failed(error); } finally { button.disabled = false; }
});

// -- one job: progress, failures, results (a page at a time, as the reader scrolls) -----------

function highlighted(text, result) {
  // Offsets count code points (Python's str), not UTF-16 units: slice an array of code points.
  const chars = Array.from(text), slice = (a, b) => chars.slice(a, b).join('');
  const spans = [];
  for (const [field, kind] of Object.entries(ITEM_KINDS)) {
    (result[field] || []).forEach((item, index) => (item.evidence || []).forEach(evidence => {
      let start = evidence.start, end = evidence.end;
      if (start == null || end == null) {
        const at = text.indexOf(evidence.quote);
        start = at < 0 ? -1 : Array.from(text.slice(0, at)).length;
        end = at < 0 ? -1 : start + Array.from(evidence.quote).length;
      }
      if (start >= 0 && end > start && end <= chars.length) spans.push({start, end, field, label: `${field}[${index}]`});
    }));
  }
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  let html = '', at = 0;
  for (const span of spans) {
    if (span.start < at) continue;  // overlapping evidence: the first span is marked
    html += esc(slice(at, span.start)) +
      `<mark class="t-${span.field}" data-item="${esc(span.label)}">${esc(slice(span.start, span.end))}</mark>`;
    at = span.end;
  }
  return html + esc(slice(at, chars.length));
}

function itemLine(field, item) {
  if (field === 'exercises') return [item.name || item.description, item.kind, item.location, item.start_date].filter(Boolean).join(' · ');
  if (field === 'aircraft') return [item.designation, item.name, item.count != null ? `×${item.count}` : null, item.operator && item.operator.name].filter(Boolean).join(' · ');
  return [item.speaker && item.speaker.name, item.stance, item.quote ? `“${item.quote}”` : item.summary].filter(Boolean).join(' · ');
}

function resultCard(entry) {
  const result = entry.result || {}, article = result.article || {};
  const card = document.createElement('article');
  card.className = 'result';
  card.dataset.article = entry.id;
  const items = Object.entries(ITEM_KINDS).flatMap(([field, kind]) =>
    (result[field] || []).map(item => `<li><span class="kind">${kind}</span>${esc(itemLine(field, item))}</li>`));
  const text = entry.text == null ? '<p><em>The article text is not stored.</em></p>'
    : `<div class="text">${highlighted(entry.text, result)}</div>`;
  const source = article.url ? ` <a href="${esc(article.url)}" rel="noreferrer noopener" target="_blank">source</a>` : '';
  card.innerHTML = `<h3><code>${esc(entry.id)}</code> ${esc(article.title || '')}${source}</h3>` +
    `<ul class="items">${items.join('') || '<li><em>nothing found</em></li>'}</ul>${text}`;
  return card;
}

function loadResults(jobId) {
  let after = null, loading = false, done = false;
  const sentinel = $('results-end');
  $('results').replaceChildren();
  sentinel.textContent = '';
  const more = async () => {
    if (loading || done) return;
    loading = true;
    try {
      const query = new URLSearchParams({format: 'json', limit: '20'});
      if (after) query.set('after', after);
      const page = await (await api(`/v1/jobs/${encodeURIComponent(jobId)}/review?${query}`)).json();
      page.data.forEach(entry => $('results').appendChild(resultCard(entry)));
      if (page.last_id) after = page.last_id;
      done = !page.has_more;
      sentinel.textContent = done ? '' : 'Loading more…';
    } catch (error) { failed(error); } finally { loading = false; }
    // still in sight after a page (a tall window): load the next one
    if (!done && sentinel.getBoundingClientRect().top < window.innerHeight) more();
  };
  view.observer = new IntersectionObserver(entries => { if (entries.some(e => e.isIntersecting)) more(); });
  view.observer.observe(sentinel);
  // new results may have been recorded: fetch them once the reader has reached the end
  return {reopen() { if (done) { done = false; more(); } }};
}

async function loadFailures(jobId, after) {
  const query = new URLSearchParams({limit: '100'});
  if (after) query.set('after', after);
  const response = await api(`/v1/jobs/${encodeURIComponent(jobId)}/failures?${query}`);
  const failures = (await response.text()).split('\n').filter(Boolean).map(line => JSON.parse(line));
  const body = $('failures');
  if (!after) body.replaceChildren();
  for (const failure of failures) {
    const row = document.createElement('tr');
    row.dataset.article = failure.id;
    row.innerHTML = `<td><code>${esc(failure.id)}</code></td><td class="reason">${esc(failure.reason)}</td>` +
      `<td>${esc(failure.message)}</td>`;
    body.appendChild(row);
  }
  $('failures-section').hidden = !body.children.length;
  const next = response.headers.get('Link') && failures.length ? failures[failures.length - 1].id : null;
  $('morefailures').hidden = !next;
  $('morefailures').onclick = () => loadFailures(jobId, next).catch(failed);
}

async function download(jobId, what) {
  try {
    const text = await (await api(`/v1/jobs/${encodeURIComponent(jobId)}/${what}`)).text();
    // the file is UTF-8 and says so: no "nationsâ€™" in whatever opens it
    const blob = new Blob([text], {type: 'application/x-ndjson;charset=utf-8'});
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `${jobId}-${what}.jsonl`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  } catch (error) { failed(error); }
}

function showJob(jobId) {
  view.name = 'job';
  const path = `/v1/jobs/${encodeURIComponent(jobId)}`;
  const share = new URL(`/jobs/${encodeURIComponent(jobId)}`, location.origin).href;
  $('jobid').textContent = jobId;
  $('sharelink').href = share;
  $('sharelink').textContent = share;
  $('failures').replaceChildren();
  $('failures-section').hidden = true;
  $('jobstatus').textContent = '';
  $('progress').textContent = '';
  const results = loadResults(jobId);
  let seen = null;
  const poll = async () => {
    try {
      const job = await (await api(path)).json();
      say('');
      const c = job.counts;
      $('jobstatus').textContent = job.status;
      $('job').dataset.status = job.status;
      $('progress').textContent = `${c.done + c.failed + c.skipped} / ${c.total} (${c.done} done, ${c.failed} failed, ` +
        `${c.skipped} skipped, ${c.pending} pending)`;
      progressBar($('job').querySelector('.bar'), c);
      $('joberror').textContent = job.error || '';
      const finished = FINISHED.includes(job.status);
      $('retry').hidden = !(finished && c.failed > 0);
      $('cancel').hidden = finished || job.status === 'cancelling';
      const state = `${job.status} ${c.done} ${c.failed}`;
      if (state !== seen) {
        seen = state;
        results.reopen();
        if (c.failed) await loadFailures(jobId); else $('failures-section').hidden = true;
      }
      if (finished) clearInterval(view.timer);
    } catch (error) { failed(error); }
  };
  $('retry').onclick = async () => {
    try {
      await api(`${path}/retry`, {method: 'POST', headers: {'Idempotency-Key': idempotencyKey()}});
      clearInterval(view.timer);
      view.timer = setInterval(poll, 1000);
      poll();
    } catch (error) { failed(error); }
  };
  $('cancel').onclick = () => api(`${path}/cancel`, {method: 'POST'}).then(poll, failed);
  $('download-results').onclick = () => download(jobId, 'results');
  $('download-failures').onclick = () => download(jobId, 'failures');
  poll();
  view.timer = setInterval(poll, 1000);
}

route();
