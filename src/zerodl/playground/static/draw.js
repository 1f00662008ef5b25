// zerodl playground: drawing: colours, the maps, the wires, the curves, the plane, the
// MNIST views and the trace table's cells. Loaded before app.js, whose names (state, $, t,
// NEG, POS, WHITE) these functions read when they are called.
"use strict";

// -- colours and small images --------------------------------------------------------------------
function mix(a, b, f) { return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * f)); }

function diverging(v) {       // v in [-1, 1]: orange, white, blue
  return v < 0 ? mix(WHITE, NEG, Math.min(1, -v)) : mix(WHITE, POS, Math.min(1, v));
}

function decodeBytes(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function paintMap(canvas, bytes, n, colour) {
  canvas.width = n; canvas.height = n;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const [r, g, b] = colour(bytes[i]);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

const signedColour = (q) => diverging(q / 127.5 - 1);
const probabilityColour = (q) => diverging((q / 255 - 0.5) * 2 * 0.8);

function drawThumbnail(canvas, name) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  ctx.fillStyle = "#f4f6f9";
  ctx.fillRect(0, 0, w, w);
  if (name === "plane" || name === "reg-gauss") {      // regression: the target's shading
    const n = 29, bytes = new Uint8Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const x = (j + 0.5) / n * 2 - 1, y = 1 - (i + 0.5) / n * 2;
      const v = name === "plane" ? (3 * x + 2 * y) / 5
        : Math.exp(-((x + 0.5) ** 2 + (y - 0.5) ** 2) * 8) - Math.exp(-((x - 0.5) ** 2 + (y - 0.5) ** 2) * 8)
          - Math.exp(-((x + 0.5) ** 2 + (y + 0.5) ** 2) * 8) + Math.exp(-((x - 0.5) ** 2 + (y + 0.5) ** 2) * 8);
      bytes[i * n + j] = Math.round((Math.max(-1, Math.min(1, v)) + 1) * 127.5);
    }
    const field = document.createElement("canvas");
    paintMap(field, bytes, n, signedColour);
    ctx.drawImage(field, 0, 0, w, w);
    return;
  }
  if (name === "mnist") {
    ctx.fillStyle = "#1f2933";
    ctx.font = "bold 26px system-ui, sans-serif";
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText("7", w / 2, w / 2 + 1);
    return;
  }
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const points = [];
  for (let i = 0; i < 120; i++) {
    const c = i % 2, r = random(), a = random() * 2 * Math.PI;
    let x, y;
    if (name === "circle") { const rr = c ? 0.7 + 0.3 * r : 0.5 * r; x = rr * Math.cos(a); y = rr * Math.sin(a); }
    else if (name === "xor") { x = (random() * 0.95 + 0.05) * (random() < 0.5 ? -1 : 1); y = (random() * 0.95 + 0.05) * (random() < 0.5 ? -1 : 1); if ((x * y < 0) !== Boolean(c)) y = -y; }
    else if (name === "gaussian") { const m = c ? 0.5 : -0.5; x = m + 0.25 * gauss(random); y = m + 0.25 * gauss(random); }
    else if (name === "spiral") { const rr = 0.05 + 0.95 * (i / 120); const th = 1.75 * 2 * Math.PI * rr + (c ? Math.PI : 0); x = rr * Math.sin(th); y = rr * Math.cos(th); }
    else { const th = Math.PI * r; x = c ? 1 - Math.cos(th) - 0.5 : Math.cos(th) - 0.5; y = c ? 0.25 - Math.sin(th) * 0.8 + 0.15 : Math.sin(th) * 0.8 - 0.15; }
    points.push([x, y, c]);
  }
  for (const [x, y, c] of points) {
    ctx.fillStyle = `rgb(${(c ? POS : NEG).join(",")})`;
    ctx.beginPath();
    ctx.arc(w / 2 + x * w * 0.42, w / 2 - y * w * 0.42, 1.8, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function gauss(random) {
  return Math.sqrt(-2 * Math.log(random() + 1e-9)) * Math.cos(2 * Math.PI * random());
}

// -- the network's wires ---------------------------------------------------------------------------
function drawWires(snap) {
  const canvas = $("wires");
  const net = $("net");
  const box = net.getBoundingClientRect();
  const ratio = window.devicePixelRatio || 1;
  canvas.width = box.width * ratio; canvas.height = box.height * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, box.width, box.height);
  const anchor = (el, side) => {
    const r = el.getBoundingClientRect();
    return [side > 0 ? r.right - box.left : r.left - box.left, r.top + r.height / 2 - box.top];
  };
  const nodes = (l) => [...net.querySelectorAll(`[data-layer="${l}"]`)];
  const weights = snap.weights || [];
  const link = (a, b, style, width) => {
    const [x0, y0] = anchor(a, 1);
    const [x1, y1] = anchor(b, -1);
    ctx.strokeStyle = style;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.bezierCurveTo((x0 + x1) / 2, y0, (x0 + x1) / 2, y1, x1, y1);
    ctx.stroke();
  };
  weights.forEach((W0, l) => {
    const from = nodes(l), to = nodes(l + 1);
    if (W0 === null) {      // MNIST: too many weights to draw, one grey link
      if (from.length === 1 && to.length === 1) link(from[0], to[0], "#c9d1da", 6);
      return;
    }
    let W = W0;
    // A layer drawn as one box: its wires carry the mean weight over the box's neurons.
    if (from.length === 1 && W.length > 1) {
      W = [W[0].map((_, b) => W.reduce((sum, row) => sum + row[b], 0) / W.length)];
    }
    if (to.length === 1 && W[0].length > 1) {
      W = W.map((row) => [row.reduce((a, b) => a + b, 0) / row.length]);
    }
    if (from.length !== W.length || to.length !== W[0].length) return;
    let m = 0;
    for (const row of W) for (const w of row) m = Math.max(m, Math.abs(w));
    const widthScale = isMnist() ? 3 : 5;
    for (let a = 0; a < W.length; a++) {
      for (let b = 0; b < W[a].length; b++) {
        const w = W[a][b], f = Math.abs(w) / (m || 1);
        link(from[a], to[b], `rgba(${(w < 0 ? NEG : POS).join(",")},${0.25 + 0.6 * f})`,
             Math.max(0.3, widthScale * f));
      }
    }
  });
}

// -- the output panel ------------------------------------------------------------------------------
function drawCurves(curves) {
  const canvas = $("curves");
  const ratio = window.devicePixelRatio || 1;
  const w = 340, h = 110;
  canvas.width = w * ratio; canvas.height = h * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, w, h);
  const steps = curves.step;
  canvas.dataset.points = String(steps.length);
  const pad = { l: 34, r: 8, t: 8, b: 18 };
  const top = Math.max(1e-6, ...curves.train_loss, ...curves.test_loss) * 1.05;
  const last = Math.max(1, steps[steps.length - 1] || 1);
  const X = (step) => pad.l + (w - pad.l - pad.r) * step / last;
  const Y = (v) => h - pad.b - (h - pad.t - pad.b) * Math.min(v, top) / top;
  ctx.strokeStyle = "#e1e6ec"; ctx.lineWidth = 1;
  ctx.fillStyle = "#6b7785"; ctx.font = "10px system-ui, sans-serif";
  for (const f of [0, 0.5, 1]) {
    ctx.beginPath(); ctx.moveTo(pad.l, Y(top * f)); ctx.lineTo(w - pad.r, Y(top * f)); ctx.stroke();
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    ctx.fillText((top * f).toFixed(2), pad.l - 4, Y(top * f));
  }
  ctx.textAlign = "right"; ctx.textBaseline = "alphabetic";
  ctx.fillText(String(last), w - pad.r, h - 4);
  ctx.textAlign = "left";
  ctx.fillText("0", pad.l, h - 4);
  for (const [key, colour] of [["train_loss", "#9aa5b1"], ["test_loss", "#1f2933"]]) {
    ctx.strokeStyle = colour; ctx.lineWidth = 1.6;
    ctx.beginPath();
    steps.forEach((step, i) => {
      const p = [X(step), Y(curves[key][i])];
      if (i === 0) ctx.moveTo(...p); else ctx.lineTo(...p);
    });
    ctx.stroke();
  }
}

function planeToCanvas(s, size) {
  const [lox, loy] = s.lo, [hix, hiy] = s.hi;
  return {
    X: (x) => (x - lox) / (hix - lox) * size,
    Y: (y) => (hiy - y) / (hiy - loy) * size,
    fromX: (px) => lox + px / size * (hix - lox),
    fromY: (py) => hiy - py / size * (hiy - loy),
  };
}

function drawBoundary(s, bytes) {
  const canvas = $("boundary");
  const size = 340, ratio = window.devicePixelRatio || 1;
  canvas.width = size * ratio; canvas.height = size * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  const field = document.createElement("canvas");
  paintMap(field, bytes, s.boundary_grid, probabilityColour);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(field, 0, 0, size, size);
  const map = planeToCanvas(s, size);
  const [low, high] = s.boundary_range || [0, 1];
  // Regression: a point's colour on the output's continuous scale; classification: its class.
  const colourOf = s.problem === "regression"
    ? (v) => diverging(((v - low) / (high - low || 1) * 2 - 1) * 0.8)
    : (v) => (v ? POS : NEG);
  const drawPoints = (points, labels, stroke) => {
    points.forEach(([x, y], i) => {
      ctx.beginPath();
      ctx.arc(map.X(x), map.Y(y), 3.6, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${colourOf(labels[i]).join(",")})`;
      ctx.fill();
      ctx.lineWidth = 1.2;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    });
  };
  drawPoints(s.train_points, s.train_labels, "#ffffff");
  if ($("show-test").checked) drawPoints(s.test_points, s.test_labels, "#1f2933");
  const chosen = state.trace;
  const where = chosen && (chosen.set === "train" ? s.train_points : s.test_points)[chosen.index];
  if (where) {      // the traced point (its x may be features, not the point)
    ctx.beginPath();
    ctx.arc(map.X(where[0]), map.Y(where[1]), 8, 0, 2 * Math.PI);
    ctx.lineWidth = 2.5; ctx.strokeStyle = "#111";
    ctx.stroke();
  }
}

function drawW1(images) {
  const box = $("w1");
  while (box.children.length > images.length) box.lastChild.remove();
  while (box.children.length < images.length) box.appendChild(document.createElement("canvas"));
  images.forEach((image, k) => {
    const canvas = box.children[k];
    paintMap(canvas, decodeBytes(image.map), 28, signedColour);
    canvas.title = `W1[:, ${k + 1}]  max |w| = ${image.max}`;
  });
}

function drawConfusion(cm) {
  const canvas = $("confusion");
  const size = 340, ratio = window.devicePixelRatio || 1;
  canvas.width = size * ratio; canvas.height = size * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, size, size);
  const pad = 30, cell = (size - pad - 4) / 10;
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "center"; ctx.textBaseline = "middle";
  const rowTotals = cm.map((row) => row.reduce((a, b) => a + b, 0));
  for (let i = 0; i < 10; i++) {
    ctx.fillStyle = "#6b7785";
    ctx.fillText(String(i), pad - 10, pad + (i + 0.5) * cell);
    ctx.fillText(String(i), pad + (i + 0.5) * cell, pad - 10);
    for (let j = 0; j < 10; j++) {
      const f = rowTotals[i] ? cm[i][j] / rowTotals[i] : 0;
      const colour = i === j ? mix(WHITE, POS, f) : mix(WHITE, NEG, Math.min(1, f * 3));
      ctx.fillStyle = `rgb(${colour.join(",")})`;
      ctx.fillRect(pad + j * cell + 1, pad + i * cell + 1, cell - 2, cell - 2);
      if (cm[i][j]) {
        ctx.fillStyle = f > 0.55 ? "#fff" : "#1f2933";
        ctx.fillText(String(cm[i][j]), pad + (j + 0.5) * cell, pad + (i + 0.5) * cell);
      }
    }
  }
  ctx.save();
  ctx.fillStyle = "#6b7785";
  ctx.fillText(`${t("guess")} →`, pad + 5 * cell, 8);
  ctx.translate(8, pad + 5 * cell); ctx.rotate(-Math.PI / 2);
  ctx.fillText(`${t("actual")} →`, 0, 0);
  ctx.restore();
}

// -- the trace table -------------------------------------------------------------------------------
function cells(values, limit) {
  const shown = values.slice(0, limit);
  let m = 0;
  for (const v of shown) m = Math.max(m, Math.abs(v));
  return shown.map((v) => {
    const [r, g, b] = diverging(m ? 0.7 * v / m : 0);
    return `<td style="background:rgb(${r},${g},${b})">${formatNumber(v)}</td>`;
  }).join("") + (values.length > limit ? `<td class="more">… (${values.length})</td>` : "");
}

/** A class as it is, a regression target or output as a short number. */
function shownValue(v) { return Number.isInteger(v) ? String(v) : formatNumber(v); }

function formatNumber(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1000 || a < 0.001 ? v.toExponential(2) : v.toFixed(Math.max(0, 3 - Math.floor(Math.log10(a))));
}
