// The page's behaviour, the same for the served page and the offline page. It draws through a painter set on
// window.digitganPainter before this script runs (served.js asks the HTTP API, offline.js runs the model in the
// page). A painter's methods return promises: info() -> the model's description; write(text, styles, seed, hand),
// mix(from, to, t, seed, hand), clock(time, fade, seed, hand) -> an object URL of a PNG, or an Error whose message a
// person can read (hand: null, or what findHand found: the first writer draws in it); styles (optional) ->
// [{name, label, min, max, step}] and setStyle(name, value); findHand(canvas, digit or null) (absent when the model
// has no way to find one) -> {hand, digit, seen: a URL of the digit as the model saw it beside its redrawing, note};
// readsDigit: whether findHand can read the digit itself (digit null).
"use strict";
const $ = (id) => document.getElementById(id);
const painter = window.digitganPainter;
const MAX_TEXT = 32;
let writeSeed = 1, morphSeed = 1, clockRunning = true;
let myHand = null;  // what painter.findHand found, used while the "in my hand" box is ticked
const handInUse = () => ($("hand-on").checked ? myHand : null);

// The rules the API enforces, checked here first so both pages say the same thing the same way.
function checkText(text) {
  if (text.length < 1 || text.length > MAX_TEXT) return `the number must have 1 to ${MAX_TEXT} characters`;
  const bad = [...new Set([...text].filter((ch) => !"0123456789:- ".includes(ch)))];
  if (bad.length) return `cannot write ${bad.slice(0, 5).map((ch) => JSON.stringify(ch)).join(", ")}: only digits, ':', '-' and spaces`;
  if (![...text].some((ch) => "0123456789".includes(ch))) return "the number has no digit to write";
  return "";
}

window.digitganTimings = {};  // milliseconds since the page was opened (the bench reads them)
// Per <img>: the number of the latest picture asked for, and a promise that settles when its current src has loaded.
// Only the latest request's picture is shown (an older one that finishes later is dropped), and a new src is set only
// once the previous one has loaded: swapping a src mid-load makes the browser cancel that load, and revoking an
// object URL still loading breaks it.
const latestAsked = new WeakMap(), loading = new WeakMap();
function loaded(img) {
  return new Promise((resolve) => {
    const done = () => { img.removeEventListener("load", done); img.removeEventListener("error", done); resolve(); };
    img.addEventListener("load", done);
    img.addEventListener("error", done);
  });
}
async function show(img, errorBox, draw) {
  const ticket = (latestAsked.get(img) || 0) + 1;
  latestAsked.set(img, ticket);
  const stale = () => latestAsked.get(img) !== ticket;
  let url;
  try {
    url = await draw();
  } catch (error) {
    if (errorBox && !stale()) errorBox.textContent = error.message || String(error);
    return;
  }
  await loading.get(img);
  if (stale()) {
    if (url.startsWith("blob:")) URL.revokeObjectURL(url);
    return;
  }
  if (errorBox) errorBox.textContent = "";
  if (!("firstPicture" in window.digitganTimings)) window.digitganTimings.firstPicture = performance.now();
  const old = img.src, done = loaded(img);
  loading.set(img, done);
  img.src = url;
  await done;
  if (old.startsWith("blob:")) URL.revokeObjectURL(old);
}

function write() {
  const text = $("write-text").value, problem = checkText(text);
  if (problem) { $("write-error").textContent = problem; return Promise.resolve(); }
  return show($("write-image"), $("write-error"),
              () => painter.write(text, Number($("write-styles").value), writeSeed, handInUse()));
}
$("write-form").addEventListener("submit", (event) => { event.preventDefault(); write(); });
$("write-styles").addEventListener("change", write);
$("write-reseed").addEventListener("click", () => { writeSeed += 1; write(); });

for (const id of ["morph-from", "morph-to"]) {
  for (let digit = 0; digit < 10; digit++) $(id).add(new Option(String(digit), String(digit)));
}
$("morph-from").value = "7"; $("morph-to").value = "9";
function morph() {
  const from = $("morph-from").value, to = $("morph-to").value, t = $("morph-t").value;
  $("morph-t").setAttribute("aria-valuetext", `${Math.round(t * 100)}%`);
  if (from === "" || to === "") { $("morph-error").textContent = "choose both ends of the morph"; return Promise.resolve(); }
  return show($("morph-image"), $("morph-error"), () => painter.mix(Number(from), Number(to), Number(t), morphSeed, handInUse()));
}
for (const id of ["morph-from", "morph-to", "morph-t"]) $(id).addEventListener("input", morph);
$("morph-reseed").addEventListener("click", () => { morphSeed += 1; morph(); });

const pad = (n) => String(n).padStart(2, "0");
async function tick() {
  if (clockRunning) {
    const now = new Date();
    const fade = Math.min(now.getMilliseconds() / 500, 1);
    const time = `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
    await show($("clock-image"), null, () => painter.clock(time, Number(fade.toFixed(2)), 0, handInUse()));
  }
  setTimeout(tick, 150);
}
$("clock-toggle").addEventListener("click", () => {
  clockRunning = !clockRunning;
  $("clock-toggle").textContent = clockRunning ? "Pause" : "Resume";
  $("clock-toggle").setAttribute("aria-pressed", String(clockRunning));
});

function redrawAll() { write(); morph(); }

// Your hand: a canvas to draw one digit on (pointer events: mouse, touch and pen alike), dark ink on white as on
// paper; "Use my hand" asks the painter for the hand that draws it.
function handCanvas() {
  const canvas = $("hand-canvas"), context = canvas.getContext("2d");
  if (!painter.findHand) {
    $("hand-status").textContent = "This model has no hand encoder, so this page cannot find a hand: " +
      "`digitgan hand-encoder --run MODEL` trains one, then `digitgan site` again.";
    for (const id of ["hand-find", "hand-clear", "hand-digit"]) $(id).disabled = true;
    canvas.style.display = "none";
    return;
  }
  if (painter.readsDigit) $("hand-digit").add(new Option("read it for me", ""));
  else $("hand-digit").add(new Option("choose…", ""));
  for (let digit = 0; digit < 10; digit++) $("hand-digit").add(new Option(String(digit), String(digit)));
  let drawing = false, inked = false;
  const clear = () => {
    context.fillStyle = "#fff"; context.fillRect(0, 0, canvas.width, canvas.height); inked = false;
  };
  clear();
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true; inked = true;
    Object.assign(context, {strokeStyle: "#000", fillStyle: "#000", lineWidth: canvas.width / 14, lineCap: "round",
                            lineJoin: "round"});
    const [x, y] = at(event);
    context.beginPath(); context.arc(x, y, context.lineWidth / 2, 0, 2 * Math.PI); context.fill();
    context.beginPath(); context.moveTo(x, y);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = at(event);
    context.lineTo(x, y); context.stroke(); context.beginPath(); context.moveTo(x, y);
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  $("hand-clear").addEventListener("click", () => { clear(); $("hand-error").textContent = ""; });
  $("hand-find").addEventListener("click", async () => {
    const choice = $("hand-digit").value;
    if (!inked) { $("hand-error").textContent = "draw a digit on the white square first"; return; }
    if (choice === "" && !painter.readsDigit) { $("hand-error").textContent = "say which digit you drew"; return; }
    $("hand-error").textContent = ""; $("hand-status").textContent = "finding your hand…";
    try {
      const found = await painter.findHand(canvas, choice === "" ? null : Number(choice));
      myHand = found.hand;
      $("hand-seen").src = found.seen; $("hand-seen").classList.remove("hidden");
      $("hand-status").textContent = `found the hand of your ${found.digit}${found.note ? ` (${found.note})` : ""}`;
      $("hand-on").disabled = false; $("hand-on").checked = true;
      redrawAll();
    } catch (error) {
      $("hand-status").textContent = "";
      $("hand-error").textContent = error.message || String(error);
    }
  });
  $("hand-on").addEventListener("change", redrawAll);
}

function styleSliders() {
  const styles = painter.styles || [];
  if (!styles.length) return;
  $("style-section").classList.remove("hidden");
  for (const style of styles) {
    const label = document.createElement("label");
    label.textContent = `${style.label} `;
    const slider = document.createElement("input");
    Object.assign(slider, {type: "range", id: `style-${style.name}`, min: style.min, max: style.max,
                           step: style.step, value: 0});
    slider.setAttribute("aria-valuetext", "0");
    slider.addEventListener("input", () => {
      slider.setAttribute("aria-valuetext", slider.value);
      painter.setStyle(style.name, Number(slider.value));
      redrawAll();
    });
    label.appendChild(slider);
    $("style-sliders").appendChild(label);
  }
  $("style-reset").addEventListener("click", () => {
    for (const style of styles) { $(`style-${style.name}`).value = 0; painter.setStyle(style.name, 0); }
    redrawAll();
  });
}

async function modelInfo() {
  const info = await painter.info();
  const box = $("model-info");
  box.textContent = `preset ${info.preset}, step ${info.step}, ${Number(info.images_seen || 0).toLocaleString()} images seen`;
  if (!info.evaluation) return;
  const table = document.createElement("table");
  const fmt = (v) => (v === null || v === undefined) ? "—" : Number(v).toPrecision(4);
  table.innerHTML = "<tr><th>metric</th><th>model</th><th>real data</th></tr>" + info.headline_metrics
    .filter((metric) => metric.key in info.evaluation.model)
    .map((metric) => `<tr><td>${metric.name}</td><td>${fmt(info.evaluation.model[metric.key])}</td>` +
                     `<td>${fmt(info.evaluation.real_floor[metric.key])}</td></tr>`).join("");
  box.appendChild(table);
}

painter.ready()
  .then(() => {
    window.digitganTimings.ready = performance.now(); styleSliders(); handCanvas(); write(); morph(); tick();
    return modelInfo(); })
  .catch((error) => { $("page-error").textContent = `the model could not start: ${error.message || error}`; });
