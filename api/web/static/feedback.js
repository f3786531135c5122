// The citizens' feedback page: pick a place, send (or keep until online, then send once), follow.
(function () {
  "use strict";
  const vi = document.body.dataset.lang !== "en";
  const T = (a, b) => (vi ? a : b);
  const form = document.getElementById("report");
  const msg = document.getElementById("send-msg");
  const net = document.getElementById("net");
  const QUEUE = "ioc-feedback-queue";
  const BOX = [[21.5, 102.2], [22.9, 103.9]];

  const map = L.map("map").fitBounds(BOX);
  window.feedbackMap = map;
  L.tileLayer("/tiles/raster/terrain/hillshade/{z}/{x}/{y}.png", { maxZoom: 16 }).addTo(map);
  let marker = null;
  function place(lat, lon) {
    form.lat.value = lat.toFixed(6);
    form.lon.value = lon.toFixed(6);
    if (marker) marker.setLatLng([lat, lon]); else marker = L.marker([lat, lon]).addTo(map);
    document.getElementById("position").textContent =
      T("Vị trí: ", "Position: ") + form.lat.value + ", " + form.lon.value;
  }
  map.on("click", (e) => place(e.latlng.lat, e.latlng.lng));
  document.getElementById("gps").addEventListener("click", () => {
    navigator.geolocation.getCurrentPosition(
      (p) => { place(p.coords.latitude, p.coords.longitude); map.setView([p.coords.latitude, p.coords.longitude], 14); },
      () => { msg.textContent = T("Không lấy được GPS: chạm vào bản đồ.", "No GPS: tap the map."); });
  });

  function showNet() {
    net.textContent = navigator.onLine ? T("Trực tuyến", "Online") : T("Ngoại tuyến", "Offline");
    net.className = "badge " + (navigator.onLine ? "on" : "off");
  }
  const queued = () => JSON.parse(localStorage.getItem(QUEUE) || "[]");
  const keep = (items) => localStorage.setItem(QUEUE, JSON.stringify(items));

  async function post(item) {
    const body = new FormData();
    for (const [k, v] of Object.entries(item.fields)) body.append(k, v);
    if (item.photo) body.append("photo", await (await fetch(item.photo)).blob(), "photo.jpg");
    const r = await fetch("/api/v1/feedback/requests", { method: "POST", body });
    const data = await r.json();
    if (!r.ok) throw Object.assign(new Error(data.detail || r.status), { final: r.status < 500 });
    return data;
  }
  function done(data) {
    const code = document.getElementById("code");
    code.hidden = false;
    code.textContent = T("Mã theo dõi (hãy lưu lại): ", "Tracking code (keep it): ") + data.token;
    msg.textContent = T("Đã gửi phản ánh số ", "Sent, request number ") + data.service_request_id +
      T(". Hạn trả lời: ", ". Answer due: ") + data.due_on;
    msg.className = "msg";
  }
  async function flush() {
    showNet();
    for (const item of queued()) {
      if (!navigator.onLine) return;
      try {
        done(await post(item));
        keep(queued().filter((i) => i.fields.client_token !== item.fields.client_token));
      } catch (err) {
        if (err.final) keep(queued().filter((i) => i.fields.client_token !== item.fields.client_token));
        msg.textContent = err.message; msg.className = "msg err";
        return;
      }
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!form.lat.value) { msg.textContent = T("Hãy chọn vị trí trên bản đồ.", "Pick the place on the map."); msg.className = "msg err"; return; }
    const fields = { client_token: crypto.randomUUID() };
    for (const n of ["service_code", "description", "lat", "lon", "name", "phone", "email", "id_number"]) fields[n] = form[n].value;
    const file = form.photo.files[0];
    const photo = file ? await new Promise((ok) => { const r = new FileReader(); r.onload = () => ok(r.result); r.readAsDataURL(file); }) : null;
    keep([...queued(), { fields, photo }]);
    msg.textContent = navigator.onLine ? T("Đang gửi…", "Sending…") : T("Đã lưu trên máy, sẽ gửi khi có mạng.", "Saved on this phone; it is sent when online.");
    msg.className = "msg";
    await flush();
  });

  const follow = document.getElementById("follow");
  const fmsg = document.getElementById("follow-msg");
  follow.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await fetch("/api/v1/feedback/track/" + encodeURIComponent(follow.token.value.trim()));
    const d = await r.json();
    if (!r.ok) { fmsg.textContent = d.detail; fmsg.className = "msg err"; return; }
    fmsg.className = "msg";
    fmsg.textContent = T("Trạng thái: ", "Status: ") + d.status_step + T(". Hạn: ", ". Due: ") + d.due_on +
      (d.response ? T(". Trả lời: ", ". Answer: ") + d.response : "");
    document.getElementById("rate").hidden = !["returned", "closed"].includes(d.status_step);
  });
  document.getElementById("rate-send").addEventListener("click", async () => {
    const r = await fetch("/api/v1/feedback/track/" + encodeURIComponent(follow.token.value.trim()) + "/rating", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ rating: Number(follow.rating.value), comment: follow.comment.value || null }) });
    const d = await r.json();
    fmsg.textContent = r.ok ? T("Cảm ơn bạn đã đánh giá.", "Thank you for rating.") : d.detail;
  });

  window.addEventListener("online", flush);
  window.addEventListener("offline", showNet);
  flush();
})();
