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

const withHand = (params, hand) => (hand ? {...params, hand} : params);

// the canvas as a PNG in the body of POST /api/hand; the hand comes back as a short code for the other operations
async function findHand(canvas, digit) {
  const picture = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const query = digit === null ? "" : `?${new URLSearchParams({digit})}`;
  const response = await fetch(`/api/hand${query}`, {method: "POST", body: picture,
                                                      headers: {"Content-Type": "image/png"}});
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    throw new Error(detail || `error ${response.status}`);
  }
  const note = body.read_probability === null ? "" : `read as a ${body.digit}, p = ${body.read_probability.toFixed(2)}`;
  return {hand: body.hand, digit: body.digit, seen: `data:image/png;base64,${body.seen}`, note};
}

window.digitganPainter = {
  ready: async () => {},
  info: async () => (await fetch("/api/model")).json(),
  write: (text, styles, seed, hand) => fetchPicture("/api/write", withHand({text, styles, seed}, hand)),
  mix: (from, to, t, seed, hand) => fetchPicture("/api/mix", withHand({from, to, t, seed}, hand)),
  clock: (time, fade, seed, hand) => fetchPicture("/api/clock", withHand({time, fade, seed}, hand)),
  findHand,
  readsDigit: true,
};
