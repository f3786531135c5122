// The staff workspace: every action is a call of the platform's HTTP API with the session cookie
// and its anti-forgery token; the server checks everything again.
'use strict';
const W = JSON.parse(document.getElementById('words').textContent);
const LANG = document.body.dataset.lang;
const CSRF = document.querySelector('meta[name=csrf-token]').content;
const $ = (sel, root = document) => root.querySelector(sel);
const fmt = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) node.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return node;
}

function flash(text, error = false) {
  const box = $('#flash');
  box.textContent = text;
  box.className = 'msg' + (error ? ' error' : ' ok');
  box.setAttribute('role', error ? 'alert' : 'status');
}

class Problem extends Error {
  constructor(status, body) {
    super((LANG === 'en' ? body.detail_en || body.description : body.detail) || body.title || String(status));
    this.status = status; this.body = body;
  }
}

// What was typed in a page's forms survives a forced sign-in (files and passwords excepted).
const KEPT = 'ioc-forms:' + location.pathname;
function keepForms() {
  const values = [...document.querySelectorAll('main form')].map(f => [f.id, [...f.elements]
    .filter(e => e.name && e.type !== 'file' && e.type !== 'password' && e.type !== 'submit')
    .map(e => [e.name, e.value])]);
  sessionStorage.setItem(KEPT, JSON.stringify(values));
}
function restoreForms() {
  const saved = sessionStorage.getItem(KEPT);
  if (!saved) return;
  sessionStorage.removeItem(KEPT);
  for (const [id, pairs] of JSON.parse(saved)) {
    const form = id && document.getElementById(id);
    if (form) for (const [name, value] of pairs) if (form.elements[name]) form.elements[name].value = value;
  }
}

// fetch with the cookie and the CSRF token; a 401 means the session is over: to the sign-in form.
async function api(method, url, body) {
  const headers = {'Accept': 'application/json', 'Accept-Language': LANG};
  if (method !== 'GET') headers['X-CSRF-Token'] = CSRF;
  let payload = body;
  if (body && !(body instanceof FormData)) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const response = await fetch(url, {method, headers, body: payload, credentials: 'same-origin'});
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = {detail: text}; }
  if (response.status === 401 && document.body.dataset.page !== 'login') {
    const why = new Problem(401, data || {}).message || W.session_over;
    flash(why, true);
    keepForms();
    const next = location.pathname + location.search;
    location.assign(`/staff/login?why=${encodeURIComponent(why)}&next=${encodeURIComponent(next)}` +
                    (LANG === 'en' ? '&lang=en' : ''));
    throw new Problem(401, data || {});
  }
  if (!response.ok) throw new Problem(response.status, data || {});
  return {status: response.status, data, headers: response.headers};
}

// A form is sent once: its buttons are disabled until the answer is in.
function guard(form, handler) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = '1';
    const buttons = [...form.querySelectorAll('button')];
    buttons.forEach(b => { b.disabled = true; });
    try { await handler(event); } catch (err) {
      if (err instanceof Problem && err.status === 401) return;
      flash(err.message, true);
    } finally {
      delete form.dataset.busy;
      buttons.forEach(b => { b.disabled = false; });
    }
  });
}

function fill(table, rows, render) {
  const body = $('tbody', table);
  body.replaceChildren(...(rows.length ? rows.map(render) :
    [el('tr', {}, el('td', {colspan: $('thead tr', table).children.length}, W.none))]));
}

const when = (iso) => iso ? new Date(iso).toLocaleString(LANG === 'en' ? 'en-GB' : 'vi-VN') : '';
const url = (path, params) => path + '?' + new URLSearchParams(
  Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined));

const pages = {};

pages.login = () => guard($('#login-form'), async () => {
  const form = $('#login-form');
  try {
    await api('POST', '/api/v1/auth/session', {username: form.username.value, password: form.password.value});
  } catch (err) { $('#login-msg').textContent = err.message; throw err; }
  const next = new URLSearchParams(location.search).get('next');
  location.assign(next && next.startsWith('/staff') ? next : '/staff' + (LANG === 'en' ? '?lang=en' : ''));
});

// ---- maps: what would change (a dry run, a pending import) or an edit's before and after ----
const COLOURS = {added: '#2e7d32', changed: '#ef6c00', removed: '#c62828', before: '#757575', after: '#c62828'};

function drawMap(id, collections) {
  const box = document.getElementById(id);
  const features = collections.flatMap(c => (c.geojson && c.geojson.features) || []);
  if (box._map) { box._map.remove(); box._map = null; }
  box.hidden = !features.length || !window.L;
  if (box.hidden) return;
  const map = L.map(box, {attributionControl: false});
  box._map = map;
  // The platform's own hillshade for relief (no external base map).
  L.tileLayer('/tiles/raster/terrain/hillshade/{z}/{x}/{y}.png', {opacity: .5, maxNativeZoom: 14,
    errorTileUrl: '/static/blank.png'}).addTo(map);
  const group = L.featureGroup().addTo(map);
  for (const {geojson, kind} of collections) {
    const colour = (f) => COLOURS[kind || f.properties.change] || '#333';
    L.geoJSON(geojson, {
      style: (f) => ({color: colour(f), weight: 3, dashArray: kind === 'before' ? '4' : null}),
      pointToLayer: (f, ll) => L.circleMarker(ll, {radius: 6, color: colour(f), fillOpacity: .6}),
      onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.source_key || ''} ${W[f.properties.change] || f.properties.change || kind}`),
    }).addTo(group);
  }
  map.fitBounds(group.getBounds().pad(0.4), {maxZoom: 14});
  const b = map.getBounds();
  // The communes around, for context (the platform's own OGC API).
  api('GET', url('/ogc/collections/communes/items', {f: 'json', limit: 20,
    bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(',')}))
    .then(({data}) => L.geoJSON(data, {style: {color: '#455a64', weight: 2, fillColor: '#fffde7', fillOpacity: .35},
      interactive: false}).addTo(map).bringToBack())
    .catch(() => {});
  box.title = W.legend;
}

// ---- imports -------------------------------------------------------------------------------
function reportView(report, headline) {
  const box = el('div', {class: 'report'}, el('p', {class: 'msg ok'}, headline));
  const facts = [[W.crs_found, report.source_crs], [W.encoding, report.encoding], ['', report.crs_note]]
    .filter(([, v]) => v);
  if (facts.length) box.append(el('dl', {class: 'facts'}, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])));
  for (const w of report.warnings || []) box.append(el('p', {class: 'msg warn'}, w));
  return box;
}

function errorsView(errors, links) {
  const table = el('table', {class: 'errors'}, el('thead', {}, el('tr', {},
    el('th', {}, W.row), el('th', {}, W.field), el('th', {}, W.value), el('th', {}, W.reason))),
    el('tbody', {}, errors.map(e => el('tr', {}, el('td', {}, String(e.row)), el('td', {}, e.field),
      el('td', {}, e.value), el('td', {}, LANG === 'en' ? e.reason_en : e.reason)))));
  const box = el('div', {class: 'report'}, el('p', {class: 'msg error', role: 'alert'}, W.rejected_file), table);
  if (links && links.report_csv) box.append(el('p', {}, el('a', {href: links.report_csv}, 'CSV')));
  return box;
}

async function waitForJob(progressUrl, bar) {
  // A background job: poll its progress URL until it ends; the outcome stays on the server, so a
  // closed tab loses nothing (the report is listed below and at /api/v1/imports).
  for (;;) {
    const {data} = await api('GET', progressUrl);
    if (typeof data.progress === 'number') { bar.max = 1; bar.value = data.progress > 1 ? data.progress / 100 : data.progress; }
    if (data.stage) flash(fmt(W.working, {pct: `${Math.round((bar.value || 0) * 100)}% · ${data.stage}`}));
    if (['succeeded', 'done', 'finished', 'failed', 'error', 'cancelled'].includes(data.status)) return data;
    await new Promise(r => setTimeout(r, 800));
  }
}

async function showImport(status, data, dry) {
  const result = $('#import-result');
  const report = data.report || data;
  if (status === 202 && data.edit_id) {
    result.replaceChildren(reportView(report, fmt(W.sent_pending, {id: data.edit_id})));
  } else if (dry || report.status === 'dry_run') {
    result.replaceChildren(reportView(report, fmt(W.dry, report)), el('p', {class: 'muted'}, W.legend));
  } else {
    result.replaceChildren(reportView(report, fmt(W.imported, report)));
  }
  flash(result.querySelector('p').textContent);
  drawMap('import-map', [{geojson: report.preview}]);
}

pages.imports = () => {
  loadImports();
  const form = $('#import-form');
  if (!form) return;
  guard(form, async (event) => {
    const dry = event.submitter && event.submitter.value === 'dry';
    const body = new FormData();
    body.append('file', form.file.files[0]);
    for (const name of ['dataset', 'crs']) if (form[name].value) body.append(name, form[name].value);
    body.append('dry_run', dry ? 'true' : 'false');
    const bar = $('#import-progress');
    bar.hidden = false; bar.removeAttribute('value');
    try {
      let {status, data, headers} = await api('POST', `/api/v1/layers/${form.layer.value}/imports`, body);
      if (status === 202 && !data.edit_id) {
        const progress = headers.get('Location') || (data.links && data.links.self) || `/api/v1/jobs/${data.id}`;
        const done = await waitForJob(progress, bar);
        const result = done.result || {};
        if (result.http_status >= 400 || (!result.http_status && done.status !== 'succeeded')) {
          const problem = result.problem ? {...result.problem, ...(result.problem.extra || {})}
            : {detail: done.stage || done.status};
          throw new Problem(result.http_status || 500, problem);
        }
        status = result.http_status;
        data = result.body || result;
      }
      await showImport(status, data, dry);
      loadImports();
    } catch (err) {
      if (err instanceof Problem && err.body && err.body.errors) {
        $('#import-result').replaceChildren(errorsView(err.body.errors, err.body.links));
        flash(err.message, true);
      } else throw err;
    } finally { bar.hidden = true; }
  });
};

async function loadImports() {
  const {data} = await api('GET', '/api/v1/imports?limit=20');
  fill($('#imports-table'), data, j => el('tr', {},
    el('td', {}, String(j.job)), el('td', {}, j.layer), el('td', {}, j.dataset), el('td', {}, j.actor),
    el('td', {}, j.edit_status === 'pending' ? W.pending : j.status),
    el('td', {}, `${j.added}/${j.changed}/${j.removed}`),
    el('td', {}, el('a', {href: j.links.report_csv}, 'CSV'), ' ', el('a', {href: j.links.report_json}, 'JSON'))));
}

// ---- review --------------------------------------------------------------------------------
let current = null;
pages.review = () => {
  const select = $('#edit-status');
  select.addEventListener('change', loadEdits);
  loadEdits();
  $('#approve').addEventListener('click', () => decide(true));
  $('#reject').addEventListener('click', () => decide(false));
  loadDocuments();
};

// Documents a department's editor attached, waiting for an approver of the owning department.
async function loadDocuments() {
  const {data} = await api('GET', '/api/v1/documents');
  fill($('#documents-table'), data.documents || [], d => {
    const reason = el('input', {type: 'text', name: 'reason', maxlength: '1000', 'aria-label': W.reason});
    const decideDoc = async (approve) => {
      const why = reason.value.trim();
      if (!approve && !why) { flash(W.need_reason, true); reason.focus(); return; }
      try {
        const {data: done} = await api('POST', `/api/v1/documents/${d.id}/${approve ? 'approve' : 'reject'}`, why ? {reason: why} : null);
        flash(fmt(approve ? W.doc_approved_msg : W.doc_rejected_msg, {id: d.id, version: done.version}));
        await loadDocuments();
      } catch (err) { if (err.status !== 401) flash(err.message, true); }
    };
    return el('tr', {'data-document': d.id},
      el('td', {}, String(d.id)), el('td', {}, d.layer), el('td', {}, String(d.feature_id)),
      el('td', {}, el('a', {href: d.href, target: '_blank'}, `${d.title} (${d.file_name})`)),
      el('td', {}, d.decision || ''), el('td', {}, d.uploaded_by), el('td', {}, when(d.uploaded_at)),
      el('td', {}, reason),
      el('td', {}, el('button', {type: 'button', class: 'primary', onclick: () => decideDoc(true)}, W.approve),
        ' ', el('button', {type: 'button', onclick: () => decideDoc(false)}, W.reject)));
  });
}

async function loadEdits() {
  const {data} = await api('GET', url('/api/v1/edits', {status: $('#edit-status').value}));
  fill($('#edits-table'), data, e => el('tr', {'data-edit': e.id},
    el('td', {}, String(e.id)), el('td', {}, e.layer), el('td', {}, e.op), el('td', {}, e.submitted_by),
    el('td', {}, when(e.submitted_at)), el('td', {}, W[e.status] || e.status),
    el('td', {}, el('button', {type: 'button', onclick: () => openEdit(e.id)}, W.open))));
}

const show = (v) => v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);

async function openEdit(id) {
  const {data: edit} = await api('GET', `/api/v1/edits/${id}`);
  current = edit;
  $('#edit-title').textContent = `#${edit.id} · ${edit.layer} · ${edit.op} · ${edit.submitted_by}`;
  const base = (edit.base && edit.base.properties) || {};
  const props = edit.properties || {};
  const conflicts = Object.fromEntries((edit.conflicts || []).map(c => [c.field, c]));
  const body = [];
  if (edit.op === 'import') {
    const keys = ['file_name', 'dataset', 'features', 'added', 'changed', 'removed', 'unchanged'];
    body.push(el('dl', {class: 'facts'}, keys.map(k => [el('dt', {}, W[k] || k), el('dd', {}, show(props[k]))])));
  } else {
    const names = [...new Set([...Object.keys(props), ...Object.keys(base)])];
    body.push(el('table', {class: 'diff'}, el('thead', {}, el('tr', {}, el('th', {}, W.field),
      el('th', {}, W.before), el('th', {}, W.after), el('th', {}, W.now))),
      el('tbody', {}, names.map(n => el('tr', {class: conflicts[n] ? 'conflict' : (n in props && show(base[n]) !== show(props[n]) ? 'changed' : '')},
        el('td', {}, n), el('td', {}, show(base[n])), el('td', {}, show(props[n])),
        el('td', {}, conflicts[n] ? show(conflicts[n].now) : ''))))));
  }
  if (edit.conflicts && edit.conflicts.length) body.unshift(el('p', {class: 'msg warn', role: 'alert'}, W.conflicts + ': ' + edit.conflicts.map(c => c.field).join(', ')));
  if (edit.links && edit.links.import) body.push(el('p', {}, el('a', {href: edit.links.import}, W.report)));
  body.push(el('p', {class: 'muted'}, W.legend));
  for (const w of edit.warnings || []) body.push(el('p', {class: 'msg warn'}, show(w)));
  $('#edit-body').replaceChildren(...body);
  const detail = $('#edit-detail');
  detail.hidden = false;
  $('#review-form').hidden = edit.status !== 'pending' || edit.submitted_by === document.body.dataset.user;
  $('#review-form').reason.value = '';
  detail.focus();
  const feature = (g) => g ? {type: 'FeatureCollection', features: [{type: 'Feature', geometry: g, properties: {}}]} : null;
  let shapes = [{geojson: feature(edit.base && edit.base.geometry), kind: 'before'},
                {geojson: feature(edit.geometry), kind: 'after'}];
  if (edit.links && edit.links.import) {
    const {data: job} = await api('GET', edit.links.import);
    shapes = [{geojson: job.preview}];
  }
  drawMap('edit-map', shapes);
}

async function decide(approve) {
  const form = $('#review-form');
  if (!current || form.dataset.busy) return;
  const reason = form.reason.value.trim();
  if (!approve && !reason) { flash(W.need_reason, true); form.reason.focus(); return; }
  form.dataset.busy = '1';
  form.querySelectorAll('button').forEach(b => { b.disabled = true; });
  try {
    await api('POST', `/api/v1/edits/${current.id}/${approve ? 'approve' : 'reject'}`, reason ? {reason} : null);
    flash(fmt(approve ? W.approved_msg : W.rejected_msg, {id: current.id}));
    $('#edit-detail').hidden = true;
    current = null;
    await loadEdits();
  } catch (err) {
    if (err.status === 412 && err.body.conflicts) {
      flash(err.message, true);
      current.conflicts = err.body.conflicts;
      await openEdit(current.id);
      flash(err.message, true);
    } else if (err.status !== 401) flash(err.message, true);
  } finally {
    delete form.dataset.busy;
    form.querySelectorAll('button').forEach(b => { b.disabled = false; });
  }
}

// ---- indicators ----------------------------------------------------------------------------
pages.indicators = () => {
  const form = $('#value-form');
  form.indicator.addEventListener('change', loadValues);
  loadValues();
  guard(form, async () => {
    const row = {indicator: form.indicator.value, period: form.period.value.trim(),
                 unit_code: form.unit_code.value, value: Number(form.value.value)};
    if (form.note.value) row.note = form.note.value;
    const {data} = await api('POST', '/api/v1/reported-values', [row]);
    form.value.value = ''; form.note.value = '';
    await loadValues();
    flash(fmt(W.written, {n: data.written}));
  });
  const targets = $('#target-form');
  if (targets) guard(targets, async () => {
    const row = {indicator: form.indicator.value, period: targets.period.value.trim(),
                 unit_code: targets.unit_code.value, value: Number(targets.value.value),
                 legal_basis: targets.legal_basis.value};
    const {data} = await api('POST', '/api/v1/targets', [row]);
    flash(fmt(W.written, {n: data.written}));
  });
  const upload = $('#values-upload');
  guard(upload, async () => {
    const body = new FormData();
    body.append('file', upload.file.files[0]);
    const {data} = await api('POST', '/api/v1/reported-values/upload', body);
    await loadValues();
    flash(fmt(W.written, {n: data.written}));
  });
};

let valuesAsked = 0;
async function loadValues() {
  const indicator = $('#value-form').indicator.value;
  const asked = ++valuesAsked;
  const {data} = await api('GET', url('/api/v1/reported-values', {indicator}));
  if (asked !== valuesAsked) return;  // a newer choice is on its way
  fill($('#values-table'), data.values, v => el('tr', {}, el('td', {}, v.period), el('td', {}, v.unit_code),
    el('td', {}, String(v.value)), el('td', {}, v.note), el('td', {}, v.entered_by)));
  chart(data.values.filter(v => v.unit_code === 'province').reverse());
}

function chart(values) {
  const svg = $('#series-chart');
  const ns = 'http://www.w3.org/2000/svg';
  svg.replaceChildren();
  if (!values.length) return;
  const max = Math.max(...values.map(v => v.value), 1e-9), w = 600 / values.length;
  values.forEach((v, i) => {
    const h = Math.max(1, 130 * v.value / max);
    const bar = document.createElementNS(ns, 'rect');
    Object.entries({x: i * w + 4, y: 140 - h, width: Math.max(2, w - 8), height: h, fill: '#b71c1c'})
      .forEach(([k, val]) => bar.setAttribute(k, val));
    const label = document.createElementNS(ns, 'text');
    Object.entries({x: i * w + 4, y: 156, 'font-size': 11}).forEach(([k, val]) => label.setAttribute(k, val));
    label.textContent = `${v.period}: ${v.value}`;
    svg.append(bar, label);
  });
}

// ---- incidents -----------------------------------------------------------------------------
const NEXT = {reported: ['responding', 'contained', 'closed', 'cancelled'], responding: ['contained', 'closed'],
              contained: ['responding', 'closed'], closed: [], cancelled: []};
pages.incidents = () => {
  const statuses = JSON.parse($('#statuses').textContent);
  const form = $('#incident-form');
  const load = async () => {
    const {data} = await api('GET', '/api/v1/incidents');
    fill($('#incidents-table'), data.incidents, i => el('tr', {},
      el('td', {}, String(i.id)), el('td', {}, i.title), el('td', {}, i.kind_title || i.kind),
      el('td', {}, statuses[i.status] || i.status),
      el('td', {}, NEXT[i.status].map(s => el('button', {type: 'button', onclick: async () => {
        await api('POST', `/api/v1/incidents/${i.id}/status`, {status: s}); flash(W.saved); load();
      }}, statuses[s])), ' ', el('a', {href: `/api/v1/incidents/${i.id}/impact`}, W.impact))));
  };
  load();
  guard(form, async () => {
    await api('POST', '/api/v1/incidents', {title: form.title.value, kind: form.kind.value,
      lon: Number(form.lon.value), lat: Number(form.lat.value), radius_m: Number(form.radius_m.value)});
    flash(W.saved); form.title.value = '';
    await load();
  });
};

// ---- public opinion: correct the labels (training data), make a case or an incident ---------
pages.opinion = () => {
  const {sectors, may_open_incident: mayIncident} = JSON.parse($('#opinion-data').textContent);
  const filter = $('#opinion-filter');
  const box = $('#correction');
  const form = $('#correction-form');
  const edit = (item) => {
    form.dataset.item = item.id;
    form.dataset.basedOn = item.correction_id ?? '';
    form.sector.value = item.sector; form.tone.value = item.tone;
    form.urgent.checked = item.urgent; form.commune_code.value = item.commune_code || '';
    $('#correction-title').textContent = fmt(W.correcting, {id: item.id});
    $('#correction-text').textContent = item.body;
    box.hidden = false; box.focus();
  };
  const load = async () => {
    const params = Object.fromEntries(new FormData(filter));
    const {data} = await api('GET', url('/api/v1/opinion/items', {...params, limit: 100}));
    fill($('#opinion-table'), data.items, i => el('tr', {'data-item': i.id},
      el('td', {}, String(i.id)), el('td', {}, when(i.published_at)),
      el('td', {class: 'post'}, i.body.length > 240 ? i.body.slice(0, 240) + '…' : i.body),
      el('td', {class: 'sector'}, sectors[i.sector] || i.sector), el('td', {class: 'tone'}, W[i.tone] || i.tone),
      el('td', {class: 'urgent'}, i.urgent ? '⚠' : ''), el('td', {class: 'commune'}, i.commune_name || '—'),
      el('td', {}, el('button', {type: 'button', 'data-action': 'correct', onclick: () => edit(i)}, W.correct_labels),
        i.correction_id ? el('span', {class: 'muted'}, ` ✔ ${W.corrected_by}`) : '', ' ',
        i.case_id ? el('a', {href: `/open311/v2/requests/${i.case_id}.json`}, `#${i.case_id}`) :
          el('button', {type: 'button', 'data-action': 'case', onclick: async () => {
            const {data: r} = await api('POST', `/api/v1/opinion/items/${i.id}/case`, {});
            flash(fmt(W.case_opened, {id: i.id, case: r.case.id})); load();
          }}, W.make_case), ' ',
        i.incident_id ? el('a', {href: `/staff/incidents${LANG === 'en' ? '?lang=en' : ''}`}, `⚑ #${i.incident_id}`) :
          (mayIncident && i.urgent ? el('button', {type: 'button', 'data-action': 'incident', onclick: async () => {
            const {data: r} = await api('POST', `/api/v1/opinion/items/${i.id}/incident`, {});
            flash(fmt(W.incident_opened, {id: i.id, incident: r.incident.id})); load();
          }}, W.make_incident) : ''))));
  };
  guard(filter, load);
  $('#correction-cancel').addEventListener('click', () => { box.hidden = true; });
  guard(form, async () => {
    const body = {sector: form.sector.value, tone: form.tone.value, urgent: form.urgent.checked,
      commune_code: form.commune_code.value || null,
      based_on: form.dataset.basedOn === '' ? null : Number(form.dataset.basedOn)};
    const id = form.dataset.item;
    try {
      await api('POST', `/api/v1/opinion/items/${id}/correction`, body);
    } catch (err) { if (err.status === 409) load(); throw err; }
    flash(fmt(W.corrected, {id})); box.hidden = true;
    await load();
  });
  const pct = (m) => m ? `${m.precision}/${m.recall}` : '—';
  const models = async () => {
    const {data} = await api('GET', '/api/v1/opinion/models');
    fill($('#models-table'), data.versions, v => el('tr', {'data-version': v.id},
      el('td', {}, String(v.id) + (v.active ? ` (${W.active})` : '')), el('td', {}, when(v.created_at)),
      el('td', {}, `${v.trained_on.shipped} + ${v.trained_on.corrections}`),
      el('td', {}, `${pct(v.metrics.sector)} · ${pct(v.metrics.tone)} · ${pct(v.metrics.urgent)}`),
      el('td', {}, W[v.decision] || v.decision)));
  };
  const retrain = $('#retrain-form');
  if (retrain) guard(retrain, async () => {
    const {data: job} = await api('POST', '/api/v1/opinion/models/retrain');
    for (;;) {
      const {data: now} = await api('GET', `/api/v1/jobs/${job.id}`);
      if (['succeeded', 'failed', 'cancelled'].includes(now.status)) {
        const r = now.result || {};
        if (r.body) flash(fmt(W.retrained, {version: r.body.version, n: r.body.reclassified,
          decision: r.body.activated ? W.activated : W.kept_worse}));
        else flash((r.problem && (LANG === 'en' ? r.problem.detail_en : r.problem.detail)) || now.status, true);
        break;
      }
      flash(fmt(W.working, {pct: `${Math.round((now.progress || 0) * 100)}%`}));
      await new Promise(done => setTimeout(done, 500));
    }
    await Promise.all([models(), load()]);
  });
  return Promise.all([load(), models()]);
};

// ---- accounts ------------------------------------------------------------------------------
pages.accounts = () => {
  const load = async () => {
    const {data} = await api('GET', '/api/v1/admin/users');
    const act = (a, verb, label) => el('button', {type: 'button', 'data-action': verb, onclick: async () => {
      if (verb !== 'unlock' && !confirm(`${label} ${a.username}? ${W.confirm}`)) return;
      if (verb === 'password') {
        const {data: r} = await api('POST', `/api/v1/admin/users/${a.username}/password`, {});
        flash(`${W.shown_once} ${r.password}`);
      } else {
        await api('POST', `/api/v1/admin/users/${a.username}/${verb}`, {});
        flash(`${label}: ${a.username}`);
      }
      load();
    }}, label);
    fill($('#accounts-table'), data, a => el('tr', {'data-user': a.username},
      el('td', {}, a.username), el('td', {}, a.role), el('td', {}, a.department), el('td', {}, a.commune_code),
      el('td', {class: 'status'}, a.status),
      el('td', {}, a.status === 'revoked' ? '' : [
        a.status === 'active' ? act(a, 'lock', W.lock) : act(a, 'unlock', W.unlock), ' ',
        act(a, 'revoke', W.revoke), ' ', a.role === 'api_client' ? '' : act(a, 'password', W.reset)])));
  };
  load();
  const form = $('#account-form');
  guard(form, async () => {
    const body = Object.fromEntries([...new FormData(form)].filter(([, v]) => v !== ''));
    body.scopes = (body.scopes || '').split(/\s+/).filter(Boolean);
    const {data} = await api('POST', '/api/v1/admin/users', body);
    flash(data.api_key ? `${W.key_once} ${data.api_key}` : W.saved); form.reset();
    await load();
  });
};

// ---- feedback deadlines: the sweep's warnings and escalations -------------------------------
pages.deadlines = () => {
  const form = $('#deadlines-filter');
  const load = async () => {
    const unseen = form.unseen.checked;
    const {data} = await api('GET', url('/api/v1/feedback/notices', {unseen, limit: 300}));
    fill($('#deadlines-table'), data.notices, n => el('tr', {class: n.kind},
      el('td', {}, when(n.at)), el('td', {}, W['notice_' + n.kind] || n.kind),
      el('td', {}, `#${n.request_id} ${n.service_code}`), el('td', {}, n.department),
      el('td', {}, n.commune_code || ''), el('td', {}, n.due_on), el('td', {}, String(n.days_left)),
      el('td', {}, n.recipient), el('td', {}, n.status),
      el('td', {}, n.seen_by ? `${n.seen_by} (${when(n.seen_at)})` :
        el('button', {type: 'button', onclick: async () => {
          try { await api('POST', `/api/v1/feedback/notices/${n.id}/seen`); await load(); }
          catch (err) { flash(err.message, true); }
        }}, W.mark_seen))));
  };
  guard(form, load);
  load();
};

// ---- audit ---------------------------------------------------------------------------------
pages.audit = () => {
  const form = $('#audit-filter');
  const load = async () => {
    const params = Object.fromEntries(new FormData(form));
    if (params.from) params.from = params.from + 'T00:00:00';
    if (params.to) { const d = new Date(params.to); d.setDate(d.getDate() + 1); params.to = d.toISOString().slice(0, 10) + 'T00:00:00'; }
    const {data} = await api('GET', url('/api/v1/admin/audit', {...params, limit: 200}));
    fill($('#audit-table'), data, e => el('tr', {}, el('td', {}, String(e.seq)), el('td', {}, when(e.at)),
      el('td', {}, e.actor), el('td', {}, e.action), el('td', {}, e.target), el('td', {}, e.outcome),
      el('td', {}, e.reason)));
  };
  guard(form, load);
  load();
  api('GET', '/api/v1/admin/audit/verify').then(({data}) => {
    $('#chain').textContent = `${data.ok ? '✔' : '✘'} ${data.checked} · ${(data.head || '').slice(0, 12)}` +
      (data.problems && data.problems.length ? ' · ' + data.problems.join('; ') : '');
  }).catch(err => { $('#chain').textContent = err.message; });
};

// ---- quality -------------------------------------------------------------------------------
pages.quality = async () => {
  const {data} = await api('GET', '/api/v1/quality');
  const pct = (v) => v === null || v === undefined ? '—' : `${Math.round(v * 100)}%`;
  fill($('#quality-table'), data.layers, l => el('tr', {class: l.stale ? 'stale' : ''},
    el('td', {}, el('button', {type: 'button', class: 'link', onclick: () => qualityOf(l)}, l.title[LANG] || l.layer)),
    el('td', {}, String(l.records)), el('td', {}, pct(l.scores.correct)), el('td', {}, pct(l.scores.complete)),
    el('td', {}, pct(l.scores.clean)), el('td', {}, pct(l.scores.live))));
};

// A layer's rules; the records failing one, each a click from its page (with its map).
async function qualityOf(layer) {
  const box = $('#quality-detail');
  const {data} = await api('GET', `/api/v1/quality/${layer.layer}`);
  const failing = async (rule) => {
    const {data: found} = await api('GET', url(`/api/v1/quality/${layer.layer}/failures`, {rule: rule.rule, limit: 50}));
    const list = el('ul', {class: 'failures'}, found.records.map(r => el('li', {},
      r.id !== undefined ? el('a', {href: `/ogc/collections/${layer.layer}/items/${r.id}?f=html`}, `#${r.id}`) : '',
      ' ', Object.entries(r).filter(([k]) => k !== 'id').slice(0, 3).map(([, v]) => show(v)).join(' · '))));
    box.querySelector(`[data-rule="${rule.rule}"]`).after(el('p', {class: 'muted'}, `${found.matched}`), list);
  };
  box.replaceChildren(el('h2', {}, layer.title[LANG] || layer.layer), el('table', {}, el('thead', {}, el('tr', {},
    el('th', {}, W.rule), el('th', {}, W.failing), el('th', {}, W.checked))),
    el('tbody', {}, (data.rules || []).map(r => el('tr', {'data-rule': r.rule}, el('td', {}, r.title[LANG] || r.rule),
      el('td', {}, r.failed ? el('button', {type: 'button', onclick: () => failing(r)}, String(r.failed)) : '0'),
      el('td', {}, String(r.checked)))))));
  box.hidden = false;
  box.focus();
}

// ---- my account ----------------------------------------------------------------------------
pages.me = () => {
  const load = async () => {
    const {data} = await api('GET', '/api/v1/auth/sessions');
    fill($('#sessions-table'), data, s => el('tr', {}, el('td', {}, s.handle + (s.current ? ` (${W.this_session})` : '')),
      el('td', {}, when(s.created_at)), el('td', {}, when(s.expires_at)), el('td', {}, s.client_ip),
      el('td', {}, el('button', {type: 'button', onclick: async () => {
        await api('DELETE', `/api/v1/auth/sessions/${s.handle}`);
        if (s.current) location.assign('/staff/login'); else { flash(W.saved); load(); }
      }}, W.end))));
  };
  load();
  const form = $('#password-form');
  guard(form, async () => {
    await api('POST', '/api/v1/auth/password', {current_password: form.current_password.value,
                                                new_password: form.new_password.value});
    location.assign('/staff/login?why=' + encodeURIComponent(W.password_changed));
  });
};

const logout = $('#logout');
if (logout) logout.addEventListener('click', async () => {
  try { await api('POST', '/api/v1/auth/logout'); } catch (err) { /* already over */ }
  location.assign('/staff/login' + (LANG === 'en' ? '?lang=en' : ''));
});

if (document.body.dataset.page !== 'login') restoreForms();
const init = pages[document.body.dataset.page];
if (init) Promise.resolve(init()).catch(err => { if (err.status !== 401) flash(err.message, true); });
