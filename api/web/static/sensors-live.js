/* Live stations on the situation view: latest readings as markers and the open alerts, pushed by
 * the server (server-sent events from /api/v1/sensors/stream); no reload needed. */
(function () {
  'use strict';
  const IOC = window.IOC = window.IOC || {};
  const UNITS = {'ug/m3': 'µg/m³'};

  function esc(value) {
    return String(value ?? '').replace(/[&<>"']/g, c => ({
      '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  }

  IOC.sensorsLive = function (map) {
    const lang = document.documentElement.lang === 'en' ? 'en' : 'vi';
    const alertsList = document.getElementById('sensor-alerts');
    const latestList = document.getElementById('sensor-latest');
    if (!alertsList || !window.EventSource) return;
    const layer = L.layerGroup().addTo(map);
    const markers = {};
    IOC.sensorState = {updates: 0, alerts: []};

    function text(s) {
      const time = new Date(s.time).toLocaleString(lang === 'en' ? 'en-GB' : 'vi-VN');
      return `${esc(s.name)}: <b>${s.value.toLocaleString(lang)}</b> ${esc(UNITS[s.unit] || s.unit)} (${time})`;
    }
    function render(state) {
      const alerting = new Set(state.alerts.map(a => a.station));
      alertsList.innerHTML = '';
      if (!state.alerts.length) {
        alertsList.innerHTML = `<li class="no-data">${lang === 'en' ? 'none' : 'không có'}</li>`;
      }
      for (const a of state.alerts) {
        const li = document.createElement('li');
        li.className = 'sensor-alert';
        li.dataset.alert = a.id;
        li.innerHTML = `⚠ ${esc(a.title[lang] || a.title.vi)} — ${esc(a.station_name)} (${a.value.toLocaleString(lang)})`;
        const s = state.stations.find(x => x.id === a.station);
        if (s) li.onclick = () => map.setView([s.lat, s.lon], 13);
        alertsList.appendChild(li);
      }
      latestList.innerHTML = '';
      for (const s of state.stations) {
        const color = alerting.has(s.id) ? '#c62828' : '#16a085';
        const m = markers[s.id] || (markers[s.id] = L.circleMarker([s.lat, s.lon], {radius: 6, weight: 2}).addTo(layer));
        m.setStyle({color, fillColor: color, fillOpacity: 0.7});
        m.bindTooltip(text(s));
        if (alerting.has(s.id)) {
          const li = document.createElement('li');
          li.innerHTML = text(s);
          li.onclick = () => map.setView([s.lat, s.lon], 13);
          latestList.appendChild(li);
        }
      }
      const quiet = state.stations.length - alerting.size;
      const li = document.createElement('li');
      li.className = 'no-data';
      li.textContent = lang === 'en' ? `${quiet} stations within limits` : `${quiet} trạm trong ngưỡng`;
      latestList.appendChild(li);
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
