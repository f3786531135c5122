/* Live stations on the situation view: latest readings as markers and the open alerts, pushed by
 * the server (server-sent events from /api/v1/sensors/stream); no reload needed. Each alert shows
 * whether it was acknowledged and by which unit, and its incident with what the incident reaches
 * (households, poor households, schools, health facilities); a signed-in operator or the rule's
 * department acknowledges it here with a note. A station's marker opens its last day as a chart. */
(function () {
  'use strict';
  const IOC = window.IOC = window.IOC || {};
  const UNITS = {'ug/m3': 'µg/m³', min: 'phút'};
  const TEXT = {
    vi: {none: 'không có', quiet: n => `${n} trạm trong ngưỡng`, raised: 'Mới',
         acknowledged: 'Đã xác nhận', ack: 'Xác nhận', note: 'ghi chú (bắt buộc)',
         incident: 'Sự cố', households: 'hộ', poor: 'hộ nghèo', schools: 'trường học',
         clinics: 'cơ sở y tế', units: {operator: 'vận hành', leader: 'lãnh đạo'},
         silent: 'mất tín hiệu', day: 'Số đo 24 giờ qua'},
    en: {none: 'none', quiet: n => `${n} stations within limits`, raised: 'New',
         acknowledged: 'Acknowledged', ack: 'Acknowledge', note: 'note (required)',
         incident: 'Incident', households: 'households', poor: 'poor households',
         schools: 'schools', clinics: 'health facilities',
         units: {operator: 'operations', leader: 'leadership'}, silent: 'silent', day: 'Last 24 hours'},
  };

  function esc(value) {
    return String(value ?? '').replace(/[&<>"']/g, c => ({
      '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  }
  function token() { return sessionStorage.getItem('ioc-map-token'); }
  function headers() {
    const t = token();
    return t ? {Authorization: `Bearer ${t}`} : {};
  }

  IOC.sensorsLive = function (map) {
    const lang = document.documentElement.lang === 'en' ? 'en' : 'vi';
    const t = TEXT[lang];
    const alertsList = document.getElementById('sensor-alerts');
    const latestList = document.getElementById('sensor-latest');
    if (!alertsList || !window.EventSource) return;
    const layer = L.layerGroup().addTo(map);
    const markers = {};
    const impacts = {};  // incident id -> figures (or a promise of them)
    let incidentIds = '';
    IOC.sensorState = {updates: 0, alerts: []};

    function num(v) { return v === null || v === undefined ? '—' : v.toLocaleString(lang); }
    function text(s) {
      const time = new Date(s.time).toLocaleString(lang === 'en' ? 'en-GB' : 'vi-VN');
      return `${esc(s.name)}: <b>${num(s.value)}</b> ${esc(UNITS[s.unit] || s.unit)} (${time})`;
    }
    function unitName(u) {
      if (t.units[u]) return t.units[u];
      return u;  // a department code; its title is on the staff pages
    }
    function impactOf(id, box) {
      if (!impacts[id]) {
        impacts[id] = fetch(`/api/v1/incidents/${id}/impact`, {headers: headers()})
          .then(r => r.ok ? r.json() : null).catch(() => null);
      }
      impacts[id].then(data => {
        const a = data && data.affected;
        if (!a) return;
        box.innerHTML = `${t.incident} #${esc(id)} (${esc(data.kind_title || data.kind)}): ` +
          `<b>${num(a.households)}</b> ${t.households}, <b>${num(a.poor_households)}</b> ${t.poor}, ` +
          `<b>${num(a.schools)}</b> ${t.schools}, <b>${num(a.health_facilities)}</b> ${t.clinics}`;
        box.dataset.households = a.households ?? '';
      });
    }
    function ackForm(a, li) {
      const form = document.createElement('form');
      form.className = 'ack row';
      form.innerHTML = `<input name="note" size="18" required placeholder="${esc(t.note)}">` +
        `<button type="submit">${esc(t.ack)}</button><span class="error"></span>`;
      form.addEventListener('click', e => e.stopPropagation());
      form.addEventListener('submit', async e => {
        e.preventDefault();
        const message = form.querySelector('.error');
        const response = await fetch(`/api/v1/sensors/alerts/${a.id}/acknowledge`, {
          method: 'POST', headers: {...headers(), 'Content-Type': 'application/json'},
          body: JSON.stringify({note: form.note.value})});
        if (response.ok) { form.remove(); li.dataset.status = 'acknowledged'; return; }
        let p = {};
        try { p = await response.json(); } catch (err) { /* not JSON */ }
        message.textContent = (lang === 'en' && p.detail_en) || p.detail || response.status;
      });
      return form;
    }
    function alertItem(a, stations) {
      let li = alertsList.querySelector(`li[data-alert="${a.id}"]`);
      if (!li) {
        li = document.createElement('li');
        li.className = 'sensor-alert';
        li.dataset.alert = a.id;
        li.innerHTML = '<span class="what"></span> <small class="state"></small>' +
          '<div class="incident muted"></div>';
        const s = stations.find(x => x.id === a.station);
        if (s) li.onclick = () => map.setView([s.lat, s.lon], 13);
      }
      const unit = UNITS[a.unit] || a.unit || '';
      li.querySelector('.what').innerHTML =
        `⚠ ${esc(a.title[lang] || a.title.vi)} — ${esc(a.station_name)} (${num(a.value)} ${esc(unit)})`;
      const state = li.querySelector('.state');
      if (a.acknowledged) {
        const at = new Date(a.acknowledged.at).toLocaleTimeString(lang === 'en' ? 'en-GB' : 'vi-VN');
        state.textContent = `✓ ${t.acknowledged} (${unitName(a.acknowledged.unit)}, ${at})`;
      } else {
        state.textContent = `● ${t.raised}`;
      }
      li.dataset.status = a.status;
      const form = li.querySelector('form.ack');
      if (a.status === 'raised' && token() && !form) li.appendChild(ackForm(a, li));
      if (a.status !== 'raised' && form) form.remove();
      const box = li.querySelector('.incident');
      if (a.incident && box.dataset.incident !== String(a.incident)) {
        box.dataset.incident = a.incident;
        impactOf(a.incident, box);
      }
      return li;
    }
    function render(state) {
      const alerting = new Set(state.alerts.map(a => a.station));
      const keep = new Set(state.alerts.map(a => String(a.id)));
      alertsList.querySelectorAll('li').forEach(li => { if (!keep.has(li.dataset.alert)) li.remove(); });
      if (!state.alerts.length) {
        alertsList.innerHTML = `<li class="no-data">${t.none}</li>`;
      }
      for (const a of state.alerts) alertsList.appendChild(alertItem(a, state.stations));
      latestList.innerHTML = '';
      for (const s of state.stations) {
        const color = alerting.has(s.id) ? '#c62828' : s.status === 'offline' ? '#7f8c8d' : '#16a085';
        const m = markers[s.id] || (markers[s.id] = L.circleMarker([s.lat, s.lon], {radius: 6, weight: 2})
          .on('click', () => chart(s.datastream, m)).addTo(layer));
        m.setStyle({color, fillColor: color, fillOpacity: 0.7});
        m.bindTooltip(text(s) + (s.status === 'offline' ? ` — ${t.silent}` : ''));
        if (alerting.has(s.id)) {
          const li = document.createElement('li');
          li.innerHTML = text(s);
          li.onclick = () => map.setView([s.lat, s.lon], 13);
          latestList.appendChild(li);
        }
      }
      const li = document.createElement('li');
      li.className = 'no-data';
      li.textContent = t.quiet(state.stations.length - alerting.size);
      latestList.appendChild(li);
      const ids = [...new Set(state.alerts.map(a => a.incident).filter(Boolean))].sort().join(',');
      if (ids !== incidentIds) {
        incidentIds = ids;
        if (IOC.refreshWarnings) IOC.refreshWarnings();  // the incidents panel
      }
    }
    // A station's last day from SensorThings, drawn as a line in its popup.
    async function chart(datastream, marker) {
      if (!datastream) return;
      const since = new Date(Date.now() - 864e5).toISOString();
      const url = `/sta/v1.1/Datastreams(${datastream})/Observations?$top=200&$orderby=phenomenonTime asc` +
        `&$select=phenomenonTime,result&$filter=phenomenonTime ge ${since}`;
      let rows = [];
      try { rows = (await (await fetch(url)).json()).value || []; } catch (e) { /* none */ }
      const w = 240, h = 80;
      const vs = rows.map(r => r.result);
      const lo = Math.min(...vs), hi = Math.max(...vs);
      const pts = rows.map((r, i) => `${(i / Math.max(1, rows.length - 1) * w).toFixed(1)},` +
        `${(h - (hi > lo ? (r.result - lo) / (hi - lo) : 0.5) * h).toFixed(1)}`).join(' ');
      const body = rows.length ? `<svg class="station-chart" width="${w}" height="${h}">` +
        `<polyline fill="none" stroke="#c62828" stroke-width="1.5" points="${pts}"/></svg>` +
        `<br><small>${num(lo)} – ${num(hi)}</small>` : t.none;
      marker.bindPopup(`<b>${t.day}</b><br>${body}`).openPopup();
    }
    const source = new EventSource('/api/v1/sensors/stream');
    source.addEventListener('update', event => {
      const state = JSON.parse(event.data);
      IOC.sensorState = {updates: IOC.sensorState.updates + 1, alerts: state.alerts};
      render(state);
    });
  };

  window.addEventListener('load', () => { if (IOC.map) IOC.sensorsLive(IOC.map); });
})();
