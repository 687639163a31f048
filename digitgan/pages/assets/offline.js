// The offline page's painter: the generator runs in the page (onnxruntime-web, one thread, the wasm binary and the
// model given as bytes), so the page works from a file with no server and no network (see page.js).
// window.digitganData, set by the page's data scripts: {model: base64 of the gzipped ONNX model, wasm: the same of
// onnxruntime's wasm binary, info: the model's description and evaluation, styles: {name: {label, direction, min, max, step}},
// encoder (when the model folder has a hand encoder): base64 of its gzipped ONNX model, int8 weights}.
// The noise comes from the page's own seeded generator: the same seed need not draw the server's image.
"use strict";
(() => {
  const data = window.digitganData;
  const SCALE = 2, PADDING = 2, SIDE = 28;
  const info = data.info, zDim = info.z_dim, classes = info.classes;
  const styleOffsets = Object.fromEntries(Object.keys(data.styles || {}).map((name) => [name, 0]));
  let session = null, encoderSession = null;

  const bytesOf = (base64) => Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  async function gunzip(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  async function ready() {
    const ort = window.ort;
    ort.env.wasm.numThreads = 1;  // threads need cross-origin isolation, which a file cannot have
    ort.env.wasm.wasmBinary = await gunzip(bytesOf(data.wasm));
    session = await ort.InferenceSession.create(await gunzip(bytesOf(data.model)), {executionProviders: ["wasm"]});
    if (data.encoder) {
      encoderSession = await ort.InferenceSession.create(await gunzip(bytesOf(data.encoder)),
                                                         {executionProviders: ["wasm"]});
    }
  }

  // mulberry32: a small seeded generator; normal draws by Box-Muller
  function random(seed) {
    let a = (seed >>> 0) ^ 0x9e3779b9;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  // the noise of `count` writers drawn from `seed`; with a hand (a Float32Array of zDim), the first writer is it
  function writers(count, seed, hand = null) {
    const next = random(seed), z = new Float32Array(count * zDim);
    for (let i = 0; i < z.length; i++) {
      if (info.noise === "uniform") { z[i] = 2 * next() - 1; continue; }
      const u = Math.max(next(), 1e-12), v = next();
      z[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
    if (hand) z.set(hand, 0);
    for (const [name, amount] of Object.entries(styleOffsets)) {
      if (!amount) continue;
      const direction = data.styles[name].direction;
      for (let row = 0; row < count; row++) {
        for (let k = 0; k < zDim; k++) z[row * zDim + k] += amount * direction[k];
      }
    }
    return z;
  }

  // Draw digits: rows of (writer index, label vector) -> Uint8ClampedArray 28x28 each, ink bright on dark.
  async function draw(z, labelVectors) {
    const count = labelVectors.length / classes;
    const feeds = {z: new window.ort.Tensor("float32", z, [count, zDim]),
                   label_vector: new window.ort.Tensor("float32", labelVectors, [count, classes])};
    const images = (await session.run(feeds)).images.data;
    return Array.from({length: count}, (_, i) => {
      const cell = new Uint8ClampedArray(SIDE * SIDE);
      for (let p = 0; p < cell.length; p++) cell[p] = Math.round((images[i * SIDE * SIDE + p] + 1) * 127.5);
      return cell;
    });
  }

  function glyph(ch) {  // ':' two dots, '-' a bar, ' ' blank (as digitgan.drawing.numbers.separator_glyph)
    const cell = new Uint8ClampedArray(SIDE * SIDE);
    const fill = (top, bottom, left, right) => {
      for (let y = top; y < bottom; y++) for (let x = left; x < right; x++) cell[y * SIDE + x] = 255;
    };
    if (ch === ":") { fill(8, 12, 12, 16); fill(17, 21, 12, 16); }
    if (ch === "-") fill(13, 16, 7, 21);
    return cell;
  }

  // rows of cells -> a PNG object URL, laid out as digitgan.drawing.numbers.rows_picture, scaled SCALE times
  async function picture(rows, scale = SCALE) {
    const columns = rows[0].length;
    const width = columns * SIDE + 2 * PADDING, height = rows.length * (SIDE + PADDING) + PADDING;
    const canvas = document.createElement("canvas");
    canvas.width = width * scale; canvas.height = height * scale;
    const context = canvas.getContext("2d");
    context.fillStyle = "#000"; context.fillRect(0, 0, canvas.width, canvas.height);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    rows.forEach((row, r) => row.forEach((cell, c) => {
      const top = PADDING + r * (SIDE + PADDING), left = PADDING + c * SIDE;
      for (let y = 0; y < SIDE * scale; y++) {
        for (let x = 0; x < SIDE * scale; x++) {
          const value = cell[Math.floor(y / scale) * SIDE + Math.floor(x / scale)];
          const at = 4 * ((top * scale + y) * canvas.width + left * scale + x);
          pixels.data[at] = pixels.data[at + 1] = pixels.data[at + 2] = value;
        }
      }
    }));
    context.putImageData(pixels, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    return URL.createObjectURL(blob);
  }

  const oneHot = (digit) => Float32Array.from({length: classes}, (_, c) => (c === digit ? 1 : 0));
  const mixOf = (from, to, t) => Float32Array.from({length: classes},
                                                    (_, c) => (c === from ? 1 - t : 0) + (c === to ? t : 0));
  function concat(vectors) {
    const out = new Float32Array(vectors.reduce((n, v) => n + v.length, 0));
    let at = 0;
    for (const v of vectors) { out.set(v, at); at += v.length; }
    return out;
  }
  const checkDigit = (d) => { if (!(Number.isInteger(d) && d >= 0 && d < classes)) throw new Error("choose digits 0-9"); };

  async function write(text, styles, seed, hand = null) {
    const chars = [...text], digits = chars.filter((ch) => ch >= "0" && ch <= "9").map(Number);
    const z = writers(styles, seed, hand), rowsZ = [], labels = [];
    for (let row = 0; row < styles; row++) {
      for (const digit of digits) { rowsZ.push(z.subarray(row * zDim, (row + 1) * zDim)); labels.push(oneHot(digit)); }
    }
    const cells = digits.length ? await draw(concat(rowsZ), concat(labels)) : [];
    const rows = [];
    for (let row = 0, next = 0; row < styles; row++) {
      rows.push(chars.map((ch) => (ch >= "0" && ch <= "9" ? cells[next++] : glyph(ch))));
    }
    return picture(rows);
  }

  async function mix(from, to, t, seed, hand = null) {
    checkDigit(from); checkDigit(to);
    if (!(t >= 0 && t <= 1)) throw new Error("the mix must lie between 0 and 1");
    const [cell] = await draw(writers(1, seed, hand), mixOf(from, to, t));
    return picture([[cell]], 4);
  }

  const clockDigits = (second) => {
    const s = ((second % 86400) + 86400) % 86400;
    return `${String(Math.floor(s / 3600)).padStart(2, "0")}${String(Math.floor(s / 60) % 60).padStart(2, "0")}${String(s % 60).padStart(2, "0")}`.split("").map(Number);
  };
  async function clock(time, fade, seed, hand = null) {
    const match = /^([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])$/.exec(time);
    if (!match) throw new Error("time must be HH:MM:SS");
    const second = 3600 * Number(match[1]) + 60 * Number(match[2]) + Number(match[3]);
    const ease = (1 - Math.cos(Math.PI * Math.min(Math.max(fade, 0), 1))) / 2;
    const before = clockDigits(second - 1), now = clockDigits(second);
    const labels = concat(now.map((digit, i) => mixOf(before[i], digit, before[i] === digit ? 1 : ease)));
    const writer = writers(1, seed, hand), z = concat(now.map(() => writer));
    const d = await draw(z, labels), colon = glyph(":");
    return picture([[d[0], d[1], colon, d[2], d[3], colon, d[4], d[5]]]);
  }

  // --- your hand: the drawn digit made to look like MNIST (as digitgan.drawing.hand.preprocess does), then the
  // hand encoder's z for it
  const median = (values) => {
    const sorted = Float32Array.from(values).sort(), middle = sorted.length >> 1;
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  function percentile(values, q) {  // linear interpolation between the closest ranks, as numpy's default
    const sorted = Float32Array.from(values).sort(), rank = (q / 100) * (sorted.length - 1);
    const low = Math.floor(rank), high = Math.min(low + 1, sorted.length - 1);
    return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
  }
  function borderOf(values, width, height) {
    const out = [];
    for (let x = 0; x < width; x++) out.push(values[x], values[(height - 1) * width + x]);
    for (let y = 0; y < height; y++) out.push(values[y * width], values[y * width + width - 1]);
    return out;
  }

  // a canvas with one drawn digit -> Uint8ClampedArray(28 * 28), ink bright on dark; Error for a blank or all-ink one
  function preprocess(source) {
    const width = source.width, height = source.height;
    const rgba = source.getContext("2d").getImageData(0, 0, width, height).data;
    const gray = new Float32Array(width * height);
    for (let i = 0; i < gray.length; i++) {  // luminance over white where transparent, as read_image does
      const alpha = rgba[4 * i + 3] / 255;
      const level = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
      gray[i] = level * alpha + (1 - alpha);
    }
    const inverted = median(borderOf(gray, width, height)) > 0.5;
    const ink = inverted ? gray.map((v) => 1 - v) : gray;
    const background = median(borderOf(ink, width, height)), top = percentile(ink, 99.9);
    if (top - background < 0.15) throw new Error("there is no digit to read: draw one on the white square");
    let solid = 0, rowMin = height, rowMax = -1, colMin = width, colMax = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        let v = Math.min(Math.max((ink[i] - background) / (top - background), 0), 1);
        if (v < 0.2) v = 0;
        ink[i] = v;
        if (v > 0.5) {
          solid++;
          rowMin = Math.min(rowMin, y); rowMax = Math.max(rowMax, y); colMin = Math.min(colMin, x); colMax = Math.max(colMax, x);
        }
      }
    }
    if (solid > 0.9 * width * height) throw new Error("the square is nearly all ink: draw one digit on it");
    if (rowMax < 0) throw new Error("there is no digit to read: draw one on the white square");
    const boxWidth = colMax - colMin + 1, boxHeight = rowMax - rowMin + 1;
    const box = document.createElement("canvas");
    box.width = boxWidth; box.height = boxHeight;
    const boxPixels = box.getContext("2d").createImageData(boxWidth, boxHeight);
    for (let y = 0; y < boxHeight; y++) {
      for (let x = 0; x < boxWidth; x++) {
        const v = Math.floor(ink[(rowMin + y) * width + colMin + x] * 255), at = 4 * (y * boxWidth + x);
        boxPixels.data[at] = boxPixels.data[at + 1] = boxPixels.data[at + 2] = v; boxPixels.data[at + 3] = 255;
      }
    }
    box.getContext("2d").putImageData(boxPixels, 0, 0);
    const scale = 20 / Math.max(boxWidth, boxHeight);
    const fitWidth = Math.max(1, Math.round(boxWidth * scale)), fitHeight = Math.max(1, Math.round(boxHeight * scale));
    const fitted = document.createElement("canvas");
    fitted.width = fitWidth; fitted.height = fitHeight;
    const fitContext = fitted.getContext("2d");
    fitContext.imageSmoothingEnabled = true; fitContext.imageSmoothingQuality = "high";
    fitContext.drawImage(box, 0, 0, fitWidth, fitHeight);
    const small = fitContext.getImageData(0, 0, fitWidth, fitHeight).data;
    const placed = new Float32Array(SIDE * SIDE);
    const top0 = (SIDE - fitHeight) >> 1, left0 = (SIDE - fitWidth) >> 1;
    let mass = 0, massY = 0, massX = 0;
    for (let y = 0; y < fitHeight; y++) {
      for (let x = 0; x < fitWidth; x++) {
        const v = small[4 * (y * fitWidth + x)];
        placed[(top0 + y) * SIDE + left0 + x] = v;
        mass += v; massY += v * (top0 + y); massX += v * (left0 + x);
      }
    }
    const shiftY = mass ? Math.round(14 - massY / mass) : 0, shiftX = mass ? Math.round(14 - massX / mass) : 0;
    const cell = new Uint8ClampedArray(SIDE * SIDE);
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const fromY = y - shiftY, fromX = x - shiftX;
        if (fromY >= 0 && fromY < SIDE && fromX >= 0 && fromX < SIDE) cell[y * SIDE + x] = placed[fromY * SIDE + fromX];
      }
    }
    return cell;
  }

  async function findHand(canvas, digit) {
    checkDigit(digit);
    const started = performance.now();
    const cell = preprocess(canvas);
    const images = Float32Array.from(cell, (v) => v / 127.5 - 1);
    const feeds = {images: new window.ort.Tensor("float32", images, [1, 1, SIDE, SIDE]),
                   label_vector: new window.ort.Tensor("float32", oneHot(digit), [1, classes])};
    const hand = Float32Array.from((await encoderSession.run(feeds)).z.data);
    const seconds = (performance.now() - started) / 1000;
    const [redrawn] = await draw(hand, oneHot(digit));
    return {hand, digit, seen: await picture([[cell, redrawn]], 4), note: `${Math.round(seconds * 1000)} ms in this page`,
            seconds, preprocessed: Array.from(cell)};
  }

  // seconds per call of the model on `batch` random (noise, class) pairs, `repeats` times (the bench's "page")
  async function measure(batch, repeats) {
    const labels = concat(Array.from({length: batch}, (_, i) => oneHot(i % classes)));
    const z = writers(batch, 7), seconds = [];
    await draw(z, labels);
    for (let r = 0; r < repeats; r++) {
      const started = performance.now();
      await draw(z, labels);
      seconds.push((performance.now() - started) / 1000);
    }
    return seconds;
  }

  window.digitganPainter = {
    ready, write, mix, clock, measure,
    findHand: data.encoder ? findHand : undefined,
    readsDigit: false,
    info: async () => info,
    styles: Object.entries(data.styles || {}).map(([name, s]) => ({name, label: s.label, min: s.min, max: s.max,
                                                                    step: s.step})),
    setStyle: (name, value) => { styleOffsets[name] = value; },
  };
})();
