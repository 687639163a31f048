// The served page's painter: every picture comes from the HTTP API of `digitgan serve` (see page.js).
"use strict";
async function fetchPicture(path, params) {
  const response = await fetch(`${path}?${new URLSearchParams(params)}`);
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    throw new Error(detail || `error ${response.status}`);
  }
  return URL.createObjectURL(await response.blob());
}

window.digitganPainter = {
  ready: async () => {},
  info: async () => (await fetch("/api/model")).json(),
  write: (text, styles, seed) => fetchPicture("/api/write", {text, styles, seed}),
  mix: (from, to, t, seed) => fetchPicture("/api/mix", {from, to, t, seed}),
  clock: (time, fade, seed) => fetchPicture("/api/clock", {time, fade, seed}),
};
