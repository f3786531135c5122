/* Situation view of the Lai Châu IOC: vector layers by group from the platform's tiles, a
 * choropleth of one indicator by commune, warnings, stale datasets and open incidents, feature
 * details and scenarios run on a drawn or picked area. Every panel degrades to "no data yet"
 * when its endpoint does not answer. */
(function () {
  'use strict';
  const IOC = window.IOC = window.IOC || {};
  const COLORS = {met: '#2e7d32', at_risk: '#f9a825', not_met: '#c62828'};

  function esc(value) {
    return String(value ?? '').replace(/[&<>"']/g, c => ({
      '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  }
  function fmt(value) {
    if (value === null || value === undefined) return '—';
    if (typeof value === 'object') return esc(JSON.stringify(value));
    if (typeof value === 'number') return value.toLocaleString(document.documentElement.lang === 'en' ? 'en' : 'vi', {maximumFractionDigits: 2});
    return esc(value);
  }
  // A signed-in user's token (this tab only): sent with every tile and API request.
  const TOKEN_KEY = 'ioc-map-token';
  function authHeaders() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? {Authorization: `Bearer ${token}`} : {};
  }
  async function getJSON(url, options = {}) {
    const response = await fetch(url, {...options, headers: {...authHeaders(), ...(options.headers || {})}});
    if (!response.ok) {
      let problem = null;
      try { problem = await response.json(); } catch (e) { /* not JSON */ }
      const error = new Error(String(response.status));
      error.status = response.status; error.problem = problem;
      throw error;
    }
    return response.json();
  }
  function label(value, lang) {
    if (value && typeof value === 'object') return value[lang] || value.vi || value.en || '';
    return value ?? '';
  }
  function listOf(data, ...keys) {
    if (Array.isArray(data)) return data;
    for (const key of keys) if (data && Array.isArray(data[key])) return data[key];
    return [];
  }

  // Leaflet.VectorGrid 1.3's canvas tiles stop every click they receive, and with Leaflet 1.9
  // the event then reaches no layer. Hit-test here instead: a feature under the pointer gets
  // the event; otherwise a click goes on to whatever lies beneath (another layer's canvas, or
  // the map), and other mouse events go to the map, as Leaflet's own canvas renderer does.
  L.Canvas.Tile.include({
    _onClick(e) {
      if (!this._map) return;
      const point = this._map.mouseEventToLayerPoint(e).subtract(this.getOffset());
      let hit = null;
      for (const id in this._layers) {
        const layer = this._layers[id];
        if (layer.options.interactive && layer._containsPoint(point)) hit = layer;
      }
      if (e.type !== 'click') {
        this._fireEvent(hit ? [hit] : false, e);  // mousedown and the like: the map (drawing, dragging)
        return;
      }
      if (hit) {
        if (!this._map._draggableMoved(hit)) {
          hit.fire('click', {originalEvent: e, latlng: this._map.mouseEventToLatLng(e)}, true);
        }
        return;
      }
      // Hidden while the click goes on, so a canvas further down cannot hand it back.
      const canvas = this._container;
      canvas.style.pointerEvents = 'none';
      try {
        const below = document.elementFromPoint(e.clientX, e.clientY);
        if (below && below !== canvas) below.dispatchEvent(new MouseEvent('click', e));
      } finally {
        canvas.style.pointerEvents = 'auto';
      }
    },
  });

  function bboxBounds(b) {
    return L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]);
  }

  // Called before any layer is added: fit the province when the first view does not hold it.
  IOC.fit = function (map, bbox) {
    const province = bboxBounds(bbox);
    if (!map.getBounds().contains(province)) map.fitBounds(province, {animate: false});
  };

  IOC.situation = function (map, cfg) {
    const t = cfg.t, lang = cfg.lang;
    const state = IOC.state = {choropleth: 'loading', warnings: 'loading', quality: 'loading',
                               scenarios: 'loading', tilesLoaded: 0, selection: null, result: null};
    IOC.map = map;
    for (const [pane, z] of [['choropleth', 350], ['boundaries', 390], ['results', 450], ['incidents', 460]]) {
      map.createPane(pane).style.zIndex = z;
    }

    // ---- base layers (written by folium) and vector groups from our tiles ----------------
    const bases = {};
    map.eachLayer(layer => {
      if (layer instanceof L.TileLayer) {
        bases[layer.options.attribution] = layer;
        layer.on('load', () => { state.tilesLoaded += 1; });
      }
    });
    const baseNames = Object.keys(bases);
    baseNames.slice(1).forEach(name => map.removeLayer(bases[name]));

    const overlays = {};
    const groups = IOC.groups = {};
    const layerGroupOf = {};
    // One grid per group, on the combined tile of the group's layers (the server leaves out a
    // layer below its minimum zoom): areas first, then lines, then points on top.
    const RANK = {MultiPolygon: 0, MultiLineString: 1, Point: 2};
    const province = bboxBounds(cfg.bbox);
    cfg.groups.forEach(group => {
      const specs = [...group.layers].sort((a, b) => RANK[a.geometry] - RANK[b.geometry]);
      const styles = {};
      specs.forEach(spec => {
        layerGroupOf[spec.id] = group.id;
        styles[spec.id] = (props, zoom) => {
          // Remember the layer on the feature's properties (hidden), for the click.
          Object.defineProperty(props, 'iocLayer', {value: spec, enumerable: false, configurable: true});
          return styleFor(spec, props, zoom);
        };
      });
      const grid = L.vectorGrid.protobuf(`/tiles/${specs.map(s => s.id).join(',')}/{z}/{x}/{y}.mvt`, {
        rendererFactory: L.canvas.tile, vectorTileLayerStyles: styles, interactive: true,
        fetchOptions: {headers: authHeaders()},
        // The feature's id travels as the tile feature's id, not a property: keep it (hidden)
        // on the properties for the click (a feature's documents are asked by id).
        getFeatureId: f => {
          Object.defineProperty(f.properties, 'iocId', {value: f.id, enumerable: false, configurable: true});
          return f.id;
        },
        minZoom: Math.min(...specs.map(s => s.minzoom)), maxNativeZoom: 18, maxZoom: 18,
        bounds: province.pad(0.02), pane: group.id === 'base_map' ? 'boundaries' : 'overlayPane',
        attribution: '',
      });
      grid.on('load', () => { state.tilesLoaded += 1; });
      grid.on('click', e => {
        const props = e.layer.properties || {};
        if (props.iocLayer) onFeature(props.iocLayer, props, e.latlng);
      });
      const holder = L.layerGroup([grid]);
      groups[group.id] = holder;
      overlays[group.title] = holder;
      if (group.visible) holder.addTo(map);
    });

    function styleFor(spec, props, zoom) {
      const color = spec.color;
      if (spec.id === 'province') return {color: '#111', weight: 2.5, fill: false};
      if (spec.id === 'communes') {
        const picked = pickedCodes.has(props.code);
        return {color: picked ? '#0d47a1' : '#333', weight: picked ? 3 : 1, fill: true,
                fillColor: picked ? '#1e88e5' : '#000', fillOpacity: picked ? 0.25 : 0.01};
      }
      if (spec.geometry === 'Point') {
        const count = props.point_count;
        const radius = count ? Math.min(4 + Math.log2(count) * 1.5, 18) : (zoom >= 14 ? 5 : 3.5);
        return {radius, fill: true, fillColor: color, fillOpacity: 0.85, color: '#fff', weight: 1};
      }
      if (spec.geometry === 'MultiLineString') return {color, weight: zoom >= 13 ? 2.5 : 1.5};
      return {color, weight: 1, fill: true, fillColor: color, fillOpacity: 0.25};
    }

    // ---- choropleth -----------------------------------------------------------------------
    const choropleth = L.layerGroup().addTo(map);
    overlays[t.choropleth] = choropleth;
    const indicatorValues = {};
    const select = document.getElementById('indicator');
    const statusBox = document.getElementById('choropleth-status');
    const periodInput = document.getElementById('period');

    async function loadIndicators() {
      let items = [];
      try {
        items = listOf(await getJSON('/api/v1/indicators'), 'indicators', 'items')
          .map(i => ({id: i.id, name: label(i.name || i.title, lang) || i.id}));
      } catch (e) { /* the list is optional: fall back to the default indicator */ }
      if (!items.length) items = [{id: cfg.default_indicator, name: cfg.default_indicator}];
      select.innerHTML = items.map(i => `<option value="${esc(i.id)}">${esc(i.name)}</option>`).join('');
      if (items.some(i => i.id === cfg.default_indicator)) select.value = cfg.default_indicator;
      select.onchange = () => loadChoropleth(select.value);
      periodInput.onchange = () => loadChoropleth(select.value);
      await loadChoropleth(select.value);
    }

    let choroplethRequest = 0;  // only the latest request may draw (a change can overtake a load)

    async function loadChoropleth(id) {
      const mine = ++choroplethRequest;
      choropleth.clearLayers();
      statusBox.textContent = t.loading;
      state.choropleth = 'loading';
      try {
        const period = periodInput.value.trim();
        const data = await getJSON(`/api/v1/indicators/${encodeURIComponent(id)}/choropleth` +
                                   (period ? `?period=${encodeURIComponent(period)}` : ''));
        if (mine !== choroplethRequest) return;
        if (data.period && !period) periodInput.placeholder = data.period;
        const layer = L.geoJSON(data, {
          pane: 'choropleth',
          style: f => {
            const status = f.properties.status;
            return {color: status === 'not_met' ? '#7f0000' : '#555', weight: status === 'not_met' ? 3 : 0.8,
                    fillColor: COLORS[status] || '#9e9e9e', fillOpacity: 0.45};
          },
          onEachFeature: (f, l) => {
            const p = f.properties;
            indicatorValues[p.code] = p;
            l.bindTooltip(`${esc(p.name)}: ${fmt(p.value)} ${esc(p.unit || '')}`, {sticky: true});
          },
        });
        choropleth.addLayer(layer);
        const below = data.features.filter(f => f.properties.status === 'not_met').length;
        statusBox.innerHTML = `${t.not_met}: <b>${below}</b> / ${data.features.length} ${t.communes}` +
          (data.period ? ` (${esc(data.period)})` : '');
        statusBox.classList.remove('no-data');
        state.choropleth = 'ok';
      } catch (e) {
        if (mine !== choroplethRequest) return;
        const p = e.problem || {};
        const detail = (lang === 'en' && p.detail_en) || p.detail;
        statusBox.textContent = e.status === 404 || !detail ? t.no_data : detail;
        statusBox.classList.toggle('no-data', !detail || e.status === 404);
        state.choropleth = e.status === 404 || !e.status ? 'missing' : 'error';
      }
    }

    // ---- details of a commune or a feature ------------------------------------------------
    const details = document.getElementById('details');
    let terrain = null;
    let warnings = {indicators_not_met: [], open_incidents: []};

    async function terrainOf(code) {
      if (terrain === null) {
        try {
          terrain = {};
          (await getJSON(`/api/v1/rasters/${cfg.terrain}/communes`)).forEach(r => { terrain[r.code] = r; });
        } catch (e) { terrain = {}; }
      }
      return terrain[code];
    }

    async function onFeature(spec, props, latlng) {
      if (spec.id === 'communes') {
        if (picking) { togglePick(props.code, props.name); return; }
        await showCommune(props);
        return;
      }
      const rows = Object.entries(props).filter(([k]) => k !== 'id')
        .map(([k, v]) => `<tr><th>${esc((spec.fields || {})[k] || k)}</th><td>${fmt(v)}</td></tr>`).join('');
      const html = `<b>${esc(spec.title)}</b><table>${rows}</table>`;
      const popup = L.popup().setLatLng(latlng).setContent(html).openOn(map);
      details.innerHTML = html;
      details.classList.remove('muted');
      const id = props.iocId ?? props.id;
      if (id != null) await showDocuments(spec, id, popup, html);
    }

    // A feature's documents (drawings, decisions, reports), every version, with the feature's
    // access rules: fetched with the tab's token, opened and previewed from blobs.
    async function blobURL(url) {
      const response = await fetch(url, {headers: authHeaders()});
      if (!response.ok) throw new Error(String(response.status));
      return URL.createObjectURL(await response.blob());
    }

    async function showDocuments(spec, id, popup, html) {
      let docs = [];
      try { docs = listOf(await getJSON(`/api/v1/layers/${spec.id}/features/${id}/documents`), 'documents'); }
      catch (e) { return; }
      if (!docs.length) return;
      const box = document.createElement('div');
      box.className = 'documents';
      box.innerHTML = `<h4>${esc(t.documents)}</h4>`;
      const list = document.createElement('ul');
      docs.forEach(d => {
        const li = document.createElement('li');
        li.dataset.document = d.id;
        const version = d.version != null ? ` — ${esc(t.version)} ${d.version}` : ` — ${esc(t.pending)}`;
        const decision = d.decision ? ` (${esc(d.decision)})` : '';
        li.innerHTML = `<a href="#">${esc(d.title)}</a>${version}${decision}`;
        li.querySelector('a').addEventListener('click', async ev => {
          ev.preventDefault();
          window.open(await blobURL(d.href), '_blank');
        });
        if (d.thumbnail) {
          const img = document.createElement('img');
          img.alt = d.title; img.className = 'thumb'; img.style.maxWidth = '120px'; img.style.display = 'block';
          blobURL(d.thumbnail).then(u => { img.src = u; }).catch(() => img.remove());
          li.appendChild(img);
        }
        list.appendChild(li);
      });
      box.appendChild(list);
      details.appendChild(box);
      popup.setContent(`${html}<p class="doc-count">${esc(t.documents)}: ${docs.length}</p>`);
    }

    async function showCommune(props) {
      const code = props.code;
      const render = relief => {
        const parts = [`<h3>${esc(props.name)} <small>(${esc(code)})</small></h3>`];
        const value = indicatorValues[code];
        if (value) {
          parts.push(`<p class="figure status-${esc(value.status)}">${esc(select.selectedOptions[0]?.text || '')}: ` +
            `<b>${fmt(value.value)} ${esc(value.unit || '')}</b> — ${t.target}: ${fmt(value.target)} ` +
            `(${esc(t[value.status] || value.status)})</p>`);
        }
        if (relief) {
          parts.push(`<p>${t.elevation}: <b>${fmt(relief.mean_elevation_m)} m</b> · ` +
            `${t.steep}: <b>${fmt(relief.steep_share * 100)}%</b></p>`);
        }
        const missed = warnings.indicators_not_met.filter(w => w.commune_code === code);
        if (missed.length) {
          parts.push(`<p>${t.not_met_list}:</p><ul>` + missed.map(w =>
            `<li>${esc(label(w.name, lang) || w.indicator)}: ${fmt(w.value)} / ${fmt(w.target)}</li>`).join('') + '</ul>');
        }
        details.innerHTML = parts.join('');
        details.classList.remove('muted');
        details.dataset.code = code;
      };
      render(terrain && terrain[code]);
      const relief = await terrainOf(code);
      if (details.dataset.code === code) render(relief);
      details.dataset.terrain = relief ? code : '';
    }

    // ---- warnings, stale datasets, incidents ---------------------------------------------
    const markers = L.layerGroup().addTo(map);
    function emptyList(element, text) {
      element.innerHTML = `<li class="no-data">${esc(text)}</li>`;
    }
    function item(element, text, onClick) {
      const li = document.createElement('li');
      li.innerHTML = text;
      li.tabIndex = 0;
      li.addEventListener('click', onClick);
      li.addEventListener('keydown', e => { if (e.key === 'Enter') onClick(); });
      element.appendChild(li);
    }
    function goTo(lat, lon, html) {
      map.flyTo([lat, lon], Math.max(map.getZoom(), 12), {duration: 0.6});
      L.popup().setLatLng([lat, lon]).setContent(html).openOn(map);
    }

    async function loadWarnings() {
      const notMet = document.getElementById('not-met');
      const incidents = document.getElementById('incidents');
      try {
        warnings = await getJSON('/api/v1/warnings');
        warnings.indicators_not_met = warnings.indicators_not_met || [];
        warnings.open_incidents = warnings.open_incidents || [];
        state.warnings = 'ok';
      } catch (e) {
        emptyList(notMet, t.no_data); emptyList(incidents, t.no_data);
        state.warnings = 'missing';
        return;
      }
      notMet.innerHTML = '';
      if (!warnings.indicators_not_met.length) emptyList(notMet, t.none);
      warnings.indicators_not_met.forEach(w => {
        const text = `<b>${esc(w.commune_name)}</b> — ${esc(label(w.name, lang) || w.indicator)}: ` +
          `${fmt(w.value)} / ${t.target} ${fmt(w.target)}`;
        item(notMet, text, () => goTo(w.lat, w.lon, text));
      });
      incidents.innerHTML = '';
      markers.clearLayers();
      if (!warnings.open_incidents.length && !(warnings.opinion_spikes || []).length) {
        emptyList(incidents, t.none);
      }
      warnings.open_incidents.forEach(i => {
        const text = `<b>${esc(i.kind)}</b> #${esc(i.id)} — ${esc(i.status)} (${esc(String(i.started_at || '').slice(0, 16))})`;
        L.circleMarker([i.lat, i.lon], {radius: 7, color: '#b71c1c', fillColor: '#ff5252', fillOpacity: 0.9,
                                        pane: 'incidents'}).bindPopup(text).addTo(markers);
        item(incidents, text, () => goTo(i.lat, i.lon, text));
      });
      (warnings.opinion_spikes || []).forEach(w => {
        const text = `<b>${esc(w.commune_name)}</b> — ${esc(lang === 'en' ? w.message_en : w.message)}`;
        item(incidents, text, () => goTo(w.lat, w.lon, text));
      });
      // Citizens' cases past their deadline: category, commune, how late, whether escalated.
      const overdue = document.getElementById('feedback-overdue');
      overdue.innerHTML = '';
      const cases = warnings.feedback_overdue || [];
      if (!cases.length) emptyList(overdue, t.none);
      cases.forEach(c => {
        const late = c.working_days_overdue == null ? '' : ` — ${esc(c.working_days_overdue)} ${t.days_late}`;
        const text = `<b>#${esc(c.id)} ${esc(c.service_code)}</b> — ${esc(c.commune_name || c.commune_code || '')}` +
          `${late}${c.escalated ? ` (${t.escalated})` : ''}`;
        L.circleMarker([c.lat, c.lon], {radius: 6, color: '#e65100', fillColor: '#ffb74d', fillOpacity: 0.9,
                                        pane: 'incidents'}).bindPopup(text).addTo(markers);
        item(overdue, text, () => goTo(c.lat, c.lon, text));
      });
    }

    IOC.refreshWarnings = loadWarnings;  // live alerts open incidents (sensors-live.js)

    async function loadQuality() {
      const stale = document.getElementById('stale');
      let rows;
      try {
        rows = listOf(await getJSON('/api/v1/quality'), 'layers', 'rows', 'datasets', 'items');
        state.quality = 'ok';
      } catch (e) {
        emptyList(stale, t.no_data);
        state.quality = 'missing';
        return;
      }
      const old = rows.filter(r => r.live === false || r.stale === true);
      stale.innerHTML = '';
      // Harvested sources that fail (signed-in staff only): "stale: source down since …".
      let down = [];
      if (sessionStorage.getItem(TOKEN_KEY)) {
        try { down = listOf(await getJSON('/api/v1/harvest/status'), 'sources').filter(s => s.state === 'stale'); }
        catch (e) { /* an account that may not read it */ }
      }
      down.forEach(s => item(stale, `<b>${esc(label(s.title, lang) || s.name)}</b> — ${esc(label(s.message, lang))}`,
                             () => showLayer(s.layer)));
      if (!old.length && !down.length) emptyList(stale, t.none);
      old.forEach(r => {
        const id = r.layer || r.id || r.dataset;
        const newest = r.newest || r.last_update || r.updated_at;
        const text = `<b>${esc(label(r.title || r.name, lang) || id)}</b>` +
          (newest ? ` — ${esc(String(newest).slice(0, 10))}` : '') +
          (typeof r.age_days === 'number' ? ` (${fmt(Math.round(r.age_days))} ${t.days})` : '');
        item(stale, text, () => showLayer(id));
      });
    }

    async function showLayer(id) {
      const group = groups[layerGroupOf[id]];
      if (group && !map.hasLayer(group)) group.addTo(map);
      try {
        const meta = await getJSON(`/ogc/collections/${encodeURIComponent(id)}?f=json`);
        const b = meta.extent.spatial.bbox[0];
        map.flyToBounds([[b[1], b[0]], [b[3], b[2]]], {duration: 0.6});
      } catch (e) { /* keep the view */ }
    }

    // ---- scenarios ------------------------------------------------------------------------
    const scenarioSelect = document.getElementById('scenario');
    const runButton = document.getElementById('run-scenario');
    const selectionBox = document.getElementById('selection');
    const resultBox = document.getElementById('scenario-result');
    const drawn = new L.FeatureGroup().addTo(map);
    const results = L.layerGroup().addTo(map);
    const pickedCodes = new Set();
    const pickedNames = {};
    let picking = false;

    Object.assign(L.drawLocal.draw.toolbar.buttons, lang === 'vi' ? {
      marker: 'Chọn một điểm', circle: 'Vẽ vòng tròn (bán kính)', polygon: 'Vẽ vùng'} : {});
    map.addControl(new L.Control.Draw({
      position: 'topleft',
      draw: {polyline: false, rectangle: false, circlemarker: false, marker: true,
             circle: {shapeOptions: {color: '#0d47a1'}}, polygon: {shapeOptions: {color: '#0d47a1'}}},
      edit: {featureGroup: drawn, edit: false, remove: true},
    }));
    map.on(L.Draw.Event.CREATED, e => {
      drawn.clearLayers();
      clearPicks();
      drawn.addLayer(e.layer);
      if (e.layerType === 'circle') {
        const c = e.layer.getLatLng();
        setSelection({type: 'radius', lon: c.lng, lat: c.lat, radius_m: Math.round(e.layer.getRadius())},
                     `${t.radius} ${Math.round(e.layer.getRadius())} m`);
      } else if (e.layerType === 'marker') {
        const c = e.layer.getLatLng();
        setSelection({type: 'point', lon: c.lng, lat: c.lat}, `${t.point} ${c.lat.toFixed(4)}, ${c.lng.toFixed(4)}`);
      } else {
        setSelection({type: 'polygon', geometry: e.layer.toGeoJSON().geometry}, t.polygon);
      }
    });
    map.on(L.Draw.Event.DELETED, () => setSelection(null, t.draw_hint));

    function setSelection(selection, text) {
      state.selection = selection;
      selectionBox.innerHTML = selection ? `${t.selection}: <b>${esc(text)}</b>` : esc(text);
      runButton.disabled = !selection || !scenarioSelect.value;
    }
    function redrawCommunes() {
      groups.base_map.eachLayer(grid => grid.redraw && grid.redraw());
    }
    function clearPicks() {
      if (pickedCodes.size) { pickedCodes.clear(); redrawCommunes(); }
    }
    function togglePick(code, name) {
      if (pickedCodes.has(code)) pickedCodes.delete(code); else pickedCodes.add(code);
      pickedNames[code] = name;
      redrawCommunes();
      const codes = [...pickedCodes];
      setSelection(codes.length ? {type: 'communes', codes} : null,
                   codes.length ? codes.map(c => pickedNames[c]).join(', ') : t.draw_hint);
    }
    document.getElementById('pick-commune').addEventListener('click', e => {
      picking = !picking;
      e.currentTarget.classList.toggle('active', picking);
      if (picking) { drawn.clearLayers(); if (!groups.base_map._map) groups.base_map.addTo(map); }
    });
    document.getElementById('pick-province').addEventListener('click', () => {
      drawn.clearLayers(); clearPicks();
      setSelection({type: 'province'}, t.province);
    });

    async function loadScenarios() {
      try {
        const items = listOf(await getJSON('/api/v1/scenarios'), 'scenarios', 'items');
        if (!items.length) throw new Error('empty');
        scenarioSelect.innerHTML = items.map(s =>
          `<option value="${esc(s.id)}">${esc(label(s.title || s.name, lang) || s.id)}</option>`).join('');
        state.scenarios = 'ok';
      } catch (e) {
        scenarioSelect.innerHTML = `<option value="">${esc(t.no_data)}</option>`;
        scenarioSelect.disabled = true;
        state.scenarios = 'missing';
      }
      runButton.disabled = !state.selection || !scenarioSelect.value;
    }

    runButton.addEventListener('click', async () => {
      if (!state.selection || !scenarioSelect.value) return;
      resultBox.textContent = t.loading;
      results.clearLayers();
      try {
        const data = await getJSON(
          `/api/v1/scenarios/${encodeURIComponent(scenarioSelect.value)}/run?f=geojson&lang=${lang}`,
          {method: 'POST', headers: {'Content-Type': 'application/json', 'Accept': 'application/geo+json'},
           body: JSON.stringify({selection: state.selection})});
        state.result = data;
        const layer = L.geoJSON(data, {
          pane: 'results',
          style: {color: '#0d47a1', weight: 2, fillOpacity: 0.15},
          pointToLayer: (f, ll) => L.circleMarker(ll, {radius: 5, color: '#0d47a1', fillColor: '#42a5f5', fillOpacity: 0.9}),
          onEachFeature: (f, l) => l.bindPopup(Object.entries(f.properties || {})
            .filter(([, v]) => typeof v !== 'object' || v === null)
            .map(([k, v]) => `<b>${esc(k)}</b>: ${fmt(v)}`).join('<br>')),
        });
        results.addLayer(layer);
        resultBox.innerHTML = summary(data);
        resultBox.dataset.features = String((data.features || []).length);
      } catch (e) {
        const p = e.problem || {};
        resultBox.innerHTML = `<span class="error">${esc(t.error)}: ${esc((lang === 'en' && p.detail_en) || p.detail || e.message)}</span>`;
        state.result = {error: e.status || e.message};
      }
    });

    function summary(data) {
      const n = (data.features || []).length;
      const parts = [`<p>${t.result}: <b>${n}</b> ${t.features}</p>`];
      const extra = data.summary || data.indicators || data.properties;
      if (extra && typeof extra === 'object') {
        const rows = Array.isArray(extra) ? extra : Object.entries(extra).map(([k, v]) => ({name: k, value: v}));
        parts.push('<table>' + rows.slice(0, 20).map(r =>
          `<tr><th>${esc(label(r.name || r.indicator || r.id, lang))}</th><td>${fmt(r.value)}` +
          `${r.unit && r.value !== null ? ' ' + esc(r.unit) : ''}${r.status ? ' (' + esc(t[r.status] || r.status) + ')' : ''}</td></tr>`).join('') + '</table>');
      }
      return parts.join('');
    }

    // ---- sign in (staff see the layers about people) --------------------------------------
    const signIn = document.getElementById('sign-in');
    const signedAs = sessionStorage.getItem(TOKEN_KEY + '-user');
    document.getElementById('signed-as').textContent = signedAs || '';
    signIn.hidden = Boolean(signedAs);
    document.getElementById('sign-out').hidden = !signedAs;
    signIn.addEventListener('submit', async e => {
      e.preventDefault();
      const message = document.getElementById('sign-in-message');
      try {
        const body = await getJSON('/api/v1/auth/token', {method: 'POST',
          headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({username: signIn.username.value, password: signIn.password.value})});
        sessionStorage.setItem(TOKEN_KEY, body.access_token);
        sessionStorage.setItem(TOKEN_KEY + '-user', signIn.username.value);
        location.reload();
      } catch (err) {
        const p = err.problem || {};
        message.textContent = (lang === 'en' && p.detail_en) || p.detail || t.error;
      }
    });
    document.getElementById('sign-out').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(TOKEN_KEY + '-user');
      location.reload();
    });

    // ---- controls and start ---------------------------------------------------------------
    const baseControl = {};
    baseNames.forEach(name => { baseControl[name] = bases[name]; });
    // Open on a wall screen; folded into its button on a laptop, where it would hide the west.
    L.control.layers(baseControl, overlays, {collapsed: window.innerWidth < 1600, position: 'topleft'}).addTo(map);
    state.ready = true;
    Promise.allSettled([loadIndicators(), loadWarnings(), loadQuality(), loadScenarios(), terrainOf('')])
      .then(() => { state.panels = true; });
  };
})();
