/* Field survey of houses: records are kept in IndexedDB until the server has them.
   Each record carries a UUID made here; the server answers a repeated UUID with the first
   submission, so a record is never entered twice, even when an answer is lost. */
"use strict";
const DB_NAME = "ioc-field", STORE = "queue";
const $ = (id) => document.getElementById(id);
let position = null;

function uuid4() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "client_uuid" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
async function tx(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const result = work(t.objectStore(STORE));
    t.oncomplete = () => resolve(result && result.result !== undefined ? result.result : result);
    t.onerror = () => reject(t.error);
  });
}
const putRecord = (r) => tx("readwrite", (s) => s.put(r));
const deleteRecord = (id) => tx("readwrite", (s) => s.delete(id));
const allRecords = () => tx("readonly", (s) => s.getAll());

const token = () => localStorage.getItem("ioc-field-token");
function showSignedIn(on) {
  $("login-box").hidden = on; $("survey-box").hidden = !on; $("logout").hidden = !on;
}
function setNet() {
  $("net").textContent = navigator.onLine ? "Trực tuyến" : "Ngoại tuyến";
  $("net").className = "badge " + (navigator.onLine ? "on" : "off");
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  try {
    const r = await fetch("/api/v1/auth/token", { method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: form.get("username"), password: form.get("password") }) });
    const body = await r.json();
    if (!r.ok) { $("login-msg").textContent = body.detail; $("login-msg").className = "msg err"; return; }
    localStorage.setItem("ioc-field-token", body.access_token);
    showSignedIn(true); flush();
  } catch (e) {
    $("login-msg").textContent = "Không kết nối được máy chủ."; $("login-msg").className = "msg err";
  }
});
$("logout").addEventListener("click", () => { localStorage.removeItem("ioc-field-token"); showSignedIn(false); });

$("photo").addEventListener("change", () => {
  const file = $("photo").files[0];
  if (file) { $("preview").src = URL.createObjectURL(file); $("preview").hidden = false; }
});

$("locate").addEventListener("click", () => {
  if (!navigator.geolocation) { $("position").textContent = "Máy không hỗ trợ định vị."; return; }
  $("position").textContent = "Đang lấy vị trí…";
  navigator.geolocation.getCurrentPosition((p) => {
    position = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: p.coords.accuracy };
    $("position").textContent = `${position.lat.toFixed(6)}, ${position.lon.toFixed(6)} (±${Math.round(position.accuracy_m)} m)`;
  }, (err) => { $("position").textContent = "Không lấy được vị trí: " + err.message; },
  { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
});

function fieldsOf(form) {
  const out = {};
  for (const el of form.querySelectorAll("[data-type]")) {
    if (el.value === "") continue;
    out[el.name] = (el.dataset.type === "integer") ? parseInt(el.value, 10)
      : (el.dataset.type === "number") ? parseFloat(el.value) : el.value;
  }
  return out;
}

$("survey").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const source = form.querySelector("[name=position_source]:checked").value;
  if (source === "gps" && !position) {
    $("save-msg").textContent = "Hãy bấm “Lấy vị trí” trước khi lưu."; $("save-msg").className = "msg err"; return;
  }
  const file = $("photo").files[0];
  const record = {
    client_uuid: uuid4(), saved_at: new Date().toISOString(), state: "waiting",
    data: { position_source: source, ...(source === "gps" ? position : {}), fields: fieldsOf(form) },
    photo: file, photo_name: file.name,
  };
  await putRecord(record);
  form.reset(); $("preview").hidden = true; position = null;
  $("position").textContent = "Chưa có vị trí.";
  $("save-msg").textContent = "Đã lưu trên máy; sẽ gửi khi có mạng."; $("save-msg").className = "msg";
  await render(); flush();
});

let flushing = false;
async function flush() {
  if (flushing || !navigator.onLine || !token()) return;
  flushing = true;
  try {
    for (const record of await allRecords()) {
      if (record.state === "failed") continue;
      const body = new FormData();
      body.append("data", JSON.stringify({ client_uuid: record.client_uuid, ...record.data }));
      body.append("photo", record.photo, record.photo_name || "photo.jpg");
      let r;
      try {
        r = await fetch("/api/v1/field/households", { method: "POST", body,
          headers: { authorization: "Bearer " + token() } });
      } catch (e) { break; }  // offline again: try later
      if (r.status === 401) { localStorage.removeItem("ioc-field-token"); showSignedIn(false); break; }
      const answer = await r.json().catch(() => ({}));
      if (r.ok) {
        await deleteRecord(record.client_uuid);
        const warn = (answer.warnings || []).filter((w) => w.code !== "gps-accuracy").map((w) => w.vi);
        $("save-msg").textContent = `Đã gửi, chờ duyệt (số ${answer.id}).` + (warn.length ? " Lưu ý: " + warn.join(" ") : "");
      } else if (r.status >= 400 && r.status < 500) {
        record.state = "failed"; record.error = answer.detail || String(r.status);
        await putRecord(record);
      } else { break; }
    }
  } finally { flushing = false; await render(); }
}

async function render() {
  const records = await allRecords();
  $("count").textContent = records.length ? `(${records.length})` : "";
  $("queue").replaceChildren(...records.map((r) => {
    const li = document.createElement("li");
    li.textContent = `${r.data.fields.household_code || "?"} — ${r.state === "failed" ? "Lỗi: " + r.error : "chờ gửi"}`;
    if (r.state === "failed") {
      const del = document.createElement("button"); del.textContent = "Xóa";
      del.onclick = async () => { await deleteRecord(r.client_uuid); render(); };
      li.append(" ", del);
    }
    return li;
  }));
}

window.addEventListener("online", () => { setNet(); flush(); });
window.addEventListener("offline", setNet);
setInterval(flush, 30000);
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/field-sw.js", { scope: "/field" }).catch(() => {});
}
setNet(); showSignedIn(!!token()); render(); flush();
