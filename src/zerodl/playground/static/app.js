// zerodl playground: the page. It only sends choices (a configuration, play/pause/step/reset,
// the sample to trace) and draws what the server's zerodl session reports.
"use strict";

const TEXT = {
  ja: {
    title: "プレイグラウンド", reset: "リセット", play: "再生 / 一時停止", step: "1 バッチ進める",
    steps: "ステップ", epoch: "エポック", data: "データ", dataset: "データセット", noise: "ノイズ",
    samples: "サンプル数", ratio: "訓練 / テストの比", training: "学習", activation: "活性化関数",
    init: "重みの初期値", optimizer: "最適化手法", lr: "学習率", batch: "バッチサイズ", seed: "乱数シード",
    network: "ネットワーク", removeLayer: "− 層", addLayer: "+ 層", negative: "負", positive: "正",
    wireHint: "線の太さ: 重みの絶対値", output: "出力", testLoss: "テスト誤差", trainLoss: "訓練誤差",
    testAcc: "テスト正解率", trainAcc: "訓練正解率", test: "テスト", train: "訓練",
    showTest: "テストデータを表示", clickHint: "点をクリックすると、その点の計算をネットワークの中まで追えます。",
    confusion: "混同行列 (テストの一部)", traceImage: "テスト画像を追跡", trace: "追跡",
    tracePanel: "1 サンプルの中身", traceEmpty: "まだサンプルが選ばれていません。",
    footer: "学習はこのコンピュータ上で zerodl (NumPy) が行っています。講座で読むのと同じコードです。",
    w1Images: "1 層目の重み W1 (中間層ニューロンごとに 1 枚)", hiddenLayers: "中間層 {n} 層",
    input: "入力", outputLayer: "出力", neurons: "{n} 個", hidden: "中間層 {n}",
    u: "総入力 u", z: "中間層出力 z", y: "出力 y", dEdu: "dE/du", label: "正解 d", lossE: "誤差 E",
    predicted: "予測", sample: "サンプル", layer: "第 {n} 層", first: "先頭 {n} 成分",
    mnistMissing: "MNIST を読み込めませんでした", pixels: "784 画素", actual: "正解", guess: "予測",
    diverged: "学習が発散しました (誤差が有限でなくなりました)。学習率を下げてください。",
    datasetNames: { circle: "円", xor: "XOR", gaussian: "ガウス", spiral: "渦巻き", moons: "三日月", mnist: "MNIST" },
  },
  en: {
    title: "playground", reset: "Reset", play: "Play / pause", step: "Train one batch",
    steps: "Steps", epoch: "Epoch", data: "Data", dataset: "Data set", noise: "Noise",
    samples: "Samples", ratio: "Training / test ratio", training: "Training", activation: "Activation",
    init: "Initialisation", optimizer: "Optimizer", lr: "Learning rate", batch: "Batch size", seed: "Seed",
    network: "Network", removeLayer: "− layer", addLayer: "+ layer", negative: "negative", positive: "positive",
    wireHint: "Line thickness: |weight|", output: "Output", testLoss: "Test loss", trainLoss: "Training loss",
    testAcc: "Test accuracy", trainAcc: "Training accuracy", test: "test", train: "training",
    showTest: "Show test data", clickHint: "Click a point to follow its computation through the network.",
    confusion: "Confusion matrix (test subset)", traceImage: "Trace test image", trace: "Trace",
    tracePanel: "Inside the network for one sample", traceEmpty: "No sample chosen yet.",
    footer: "Trained by zerodl (NumPy) on this computer: the same code you read in the course.",
    w1Images: "First-layer weights W1 (one image per hidden neuron)", hiddenLayers: "{n} hidden layers", hiddenLayer: "1 hidden layer", noHidden: "no hidden layer",
    input: "Input", outputLayer: "Output", neurons: "{n} neurons", hidden: "Hidden {n}",
    u: "total input u", z: "hidden output z", y: "output y", dEdu: "dE/du", label: "label d", lossE: "error E",
    predicted: "predicted", sample: "sample", layer: "layer {n}", first: "first {n} entries",
    mnistMissing: "MNIST could not be loaded", pixels: "784 pixels", actual: "actual", guess: "predicted",
    diverged: "Training diverged (the loss is no longer finite). Lower the learning rate.",
    datasetNames: { circle: "Circle", xor: "XOR", gaussian: "Gaussian", spiral: "Spiral", moons: "Moons", mnist: "MNIST" },
  },
};

for (const lang of Object.keys(TEXT)) Object.assign(TEXT[lang], EXTRA_TEXT[lang]);   // controls.js

const NEG = [245, 147, 34];     // orange: negative / class 0
const POS = [8, 119, 189];      // blue: positive / class 1
const WHITE = [255, 255, 255];

const state = {
  lang: (navigator.language || "").startsWith("ja") ? "ja" : "en",
  options: null,
  config: null,
  snap: null,
  pending: null,      // the newest snapshot not drawn yet: drawing happens once per frame
  trace: null,
};

const $ = (id) => document.getElementById(id);
const t = (key, n) => String(TEXT[state.lang][key] ?? key).replace("{n}", n);

// -- talking to the server ------------------------------------------------------------------
async function send(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  let reply = {};
  try { reply = await response.json(); } catch (e) { reply = { error: response.statusText }; }
  if (!response.ok) {
    state.lastError = reply.error || `HTTP ${response.status}`;    // the server's words
    showError(translateError(state.lastError));
    return null;
  }
  showError(null);
  return reply;
}

function showError(message) {
  const box = $("error");
  box.hidden = !message;
  box.textContent = message || "";
}

async function applyConfig(changes) {
  const config = { ...state.config, ...changes };
  const reply = await send("/api/config", config);
  // Mark the field that the server's message names, clear the others.
  const message = $("error").hidden ? "" : state.lastError || "";
  for (const key of Object.keys(changes)) {
    const input = $(key);
    if (input && input.tagName === "INPUT") input.classList.toggle("bad", !reply && message.startsWith(key));
  }
  if (reply) {
    state.config = reply.config;
    state.trace = null;
    renderTrace();
  }
  fillForm();
  return reply;
}

function listen() {
  const source = new EventSource("/api/stream");
  source.addEventListener("snapshot", (event) => {
    state.pending = JSON.parse(event.data);
    requestAnimationFrame(drawPending);
  });
}

function drawPending() {
  if (!state.pending) return;
  const snap = state.pending;
  state.pending = null;
  const configChanged = !state.snap || JSON.stringify(state.snap.config) !== JSON.stringify(snap.config);
  state.snap = snap;
  if (configChanged) {
    state.config = snap.config;
    fillForm();
    buildColumns();
  }
  render();
}

// -- the form ----------------------------------------------------------------------------------
function isMnist() { return state.config && state.config.dataset === "mnist"; }

function fillSelect(select, values, labels) {
  select.innerHTML = "";
  for (const value of values) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = labels ? labels(value) : value;
    select.appendChild(option);
  }
}

function initLabel(value) {
  return { "0.01": "0.01 (N(0, 0.01²))", xavier: "Xavier", he: "He" }[value] || value;
}

function buildForm() {
  const o = state.options;
  fillSelect($("activation"), o.activations);
  fillSelect($("init"), o.inits, initLabel);
  fillSelect($("optimizer"), o.optimizers);
  const box = $("datasets");
  box.innerHTML = "";
  for (const name of o.datasets) {
    const button = document.createElement("button");
    button.dataset.dataset = name;
    button.id = `dataset-${name}`;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 58;
    drawThumbnail(canvas, name);
    const label = document.createElement("span");
    button.append(canvas, label);
    button.addEventListener("click", () => chooseDataset(name));
    box.appendChild(button);
  }
  for (const id of ["activation", "init", "optimizer"]) {
    $(id).addEventListener("change", () => applyConfig({ [id]: $(id).value }));
  }
  for (const id of ["lr", "batch_size", "seed"]) {
    $(id).addEventListener("change", () => {
      const text = $(id).value.trim();
      const value = text === "" || isNaN(Number(text)) ? text : Number(text);
      applyConfig({ [id]: value });
    });
  }
  for (const id of ["noise", "n_samples", "train_ratio"]) {
    $(id).addEventListener("input", () => updateOutputs());
    $(id).addEventListener("change", () => applyConfig({ [id]: Number($(id).value) }));
  }
  $("add-layer").addEventListener("click", () => {
    const hidden = [...state.config.hidden];
    if (hidden.length < o.limits.hidden_layers) hidden.push(isMnist() ? 32 : 4);
    applyConfig({ hidden });
  });
  $("remove-layer").addEventListener("click", () => {
    applyConfig({ hidden: state.config.hidden.slice(0, -1) });
  });
  buildDay2Form();
}

function chooseDataset(name) {
  const limits = state.options.limits;
  const changes = { dataset: name };
  const wasMnist = isMnist();
  if (name === "mnist" && !wasMnist) {
    Object.assign(changes, { n_samples: 2000, train_ratio: 0.8, hidden: [32], optimizer: "adam",
                             lr: 0.003, batch_size: 32, activation: "relu", init: "he" });
  } else if (name !== "mnist" && wasMnist) {
    Object.assign(changes, { ...state.options.defaults, dataset: name });
  }
  if (name === "mnist") changes.features = ["x1", "x2"];
  // The output layer of the problem: regression's one identity output, else the last choice.
  if (isRegression(name)) changes.output = "identity";
  else if ((changes.output || state.config.output) === "identity" || name === "mnist") {
    changes.output = "softmax";
  }
  if (name !== "mnist") {
    const hidden = changes.hidden || state.config.hidden;
    changes.hidden = hidden.map((h) => Math.min(h, limits.neurons_2d));
  }
  applyConfig(changes);
}

function fillForm() {
  const c = state.config;
  if (!c) return;
  const limits = state.options.limits;
  for (const id of ["activation", "init", "optimizer"]) $(id).value = c[id];
  for (const id of ["lr", "batch_size", "seed"]) {
    if (document.activeElement !== $(id)) $(id).value = String(c[id]);
  }
  const [low, high] = isMnist() ? limits.samples_mnist : limits.samples_2d;
  const samples = $("n_samples");
  samples.min = low; samples.max = high; samples.step = isMnist() ? 100 : 10;
  samples.value = c.n_samples;
  $("noise").value = c.noise;
  $("train_ratio").value = c.train_ratio;
  $("noise-field").hidden = isMnist();
  for (const button of $("datasets").children) {
    button.classList.toggle("on", button.dataset.dataset === c.dataset);
  }
  updateOutputs();
  fillDay2Form();
}

function updateOutputs() {
  $("noise-out").textContent = Number($("noise").value).toFixed(2);
  $("samples-out").textContent = $("n_samples").value;
  const r = Number($("train_ratio").value);
  $("ratio-out").textContent = `${Math.round(r * 100)} : ${Math.round((1 - r) * 100)}`;
}

// -- the language --------------------------------------------------------------------------------
function setLanguage(lang) {
  state.lang = lang;
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const button of document.querySelectorAll(".lang .chip")) {
    button.classList.toggle("on", button.dataset.lang === lang);
  }
  for (const button of $("datasets").children) {
    button.lastChild.textContent = TEXT[lang].datasetNames[button.dataset.dataset];
  }
  labelDay2();
  if (state.snap) { buildColumns(); render(); }
  renderTrace();
}

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

// -- the network -----------------------------------------------------------------------------------
function buildColumns() {
  const c = state.config;
  const columns = $("columns");
  columns.innerHTML = "";
  const mnist = isMnist();
  const n = c.hidden.length;
  $("layer-count").textContent =
    state.lang === "en" && n < 2 ? t(n ? "hiddenLayer" : "noHidden") : t("hiddenLayers", n);
  $("add-layer").disabled = c.hidden.length >= state.options.limits.hidden_layers;
  $("remove-layer").disabled = c.hidden.length === 0;
  const nOut = mnist ? 10 : isRegression(c.dataset) || c.output === "sigmoid" ? 1 : 2;
  const sizes = [mnist ? 784 : c.features.length, ...c.hidden, nOut];
  sizes.forEach((size, l) => {
    const column = document.createElement("div");
    column.className = "column";
    const head = document.createElement("div");
    head.className = "col-head";
    const isHidden = l > 0 && l < sizes.length - 1;
    const title = l === 0 ? t("input") : isHidden ? t("hidden", l) : t("outputLayer");
    head.innerHTML = `<span>${title}</span>`;
    if (isHidden) {
      const pm = document.createElement("div");
      pm.className = "plusminus";
      const minus = document.createElement("button");
      minus.textContent = "−"; minus.title = "−";
      const plus = document.createElement("button");
      plus.textContent = "+"; plus.title = "+";
      const limit = mnist ? state.options.limits.neurons_mnist : state.options.limits.neurons_2d;
      const change = (up) => {
        const hidden = [...c.hidden];
        const h = hidden[l - 1];
        hidden[l - 1] = mnist ? (up ? Math.min(limit, h * 2) : Math.max(1, Math.floor(h / 2)))
                              : Math.max(1, Math.min(limit, h + (up ? 1 : -1)));
        applyConfig({ hidden });
      };
      minus.addEventListener("click", () => change(false));
      plus.addEventListener("click", () => change(true));
      pm.append(minus, plus);
      head.appendChild(pm);
      const count = document.createElement("span");
      count.className = "neuron-count";
      count.textContent = t("neurons", size);
      head.appendChild(count);
    }
    column.appendChild(head);
    const neurons = document.createElement("div");
    neurons.className = "neurons";
    if (mnist && (l === 0 || size > 10)) {
      const box = document.createElement("div");
      box.className = "chip-box";
      box.textContent = l === 0 ? "784" : size;
      box.dataset.layer = l;
      neurons.appendChild(box);
      const note = document.createElement("div");
      note.className = "mnist-note";
      note.textContent = l === 0 ? t("pixels") : t("neurons", size);
      neurons.appendChild(note);
    } else if (mnist) {
      // The 10 output units: one box per digit, coloured by how often the test subset's
      // images of that digit are recognised (the confusion matrix's row).
      neurons.classList.add("tight");
      for (let k = 0; k < size; k++) {
        const digit = document.createElement("div");
        digit.className = "digit";
        digit.textContent = String(k);
        digit.dataset.layer = l;
        digit.dataset.unit = k;
        neurons.appendChild(digit);
      }
    } else {
      for (let k = 0; k < size; k++) {
        const canvas = document.createElement("canvas");
        canvas.className = "neuron" + (l === sizes.length - 1 && !mnist ? " big" : "");
        canvas.dataset.layer = l;
        canvas.dataset.unit = k;
        neurons.appendChild(canvas);
      }
    }
    column.appendChild(neurons);
    columns.appendChild(column);
  });
}

/** The input nodes: each feature's map over the plane, as the server computed it. */
function paintInputs(s) {
  (s.inputs || []).forEach((input, k) => {
    const canvas = document.querySelector(`.neuron[data-layer="0"][data-unit="${k}"]`);
    if (!canvas) return;
    paintMap(canvas, decodeBytes(input.map), s.neuron_grid, signedColour);
    canvas.title = `${input.name}, max = ${input.max}`;
    canvas.dataset.feature = input.name;
  });
}

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

// -- rendering a snapshot ----------------------------------------------------------------------------
function render() {
  const s = state.snap;
  if (!s) return;
  document.querySelector(".transport").classList.toggle("playing", s.status === "playing");
  $("step-count").textContent = s.step.toLocaleString("en");
  $("epoch-count").textContent = s.epoch_progress.toFixed(2);
  const shown = (v) => (v === null || v === undefined ? "–" : v.toFixed(3));
  $("test-loss").textContent = shown(s.test_loss);
  $("train-loss").textContent = shown(s.train_loss);
  $("test-acc").textContent = shown(s.test_accuracy);
  $("train-acc").textContent = shown(s.train_accuracy);
  if (s.error === "diverged") showError(t("diverged"));
  drawCurves(s.curves);
  const mnist = s.kind === "mnist";
  $("plane-views").hidden = mnist;
  $("confusion-views").hidden = !mnist;
  $("mnist-views").hidden = !mnist;
  if (mnist) {
    drawW1(s.w1_images);
    drawConfusion(s.confusion);
    document.querySelectorAll(".digit").forEach((box, k) => {
      const row = s.confusion[k], total = row.reduce((a, b) => a + b, 0);
      const recall = total ? row[k] / total : 0;
      box.style.background = `rgb(${mix(WHITE, POS, recall).join(",")})`;
      box.style.color = recall > 0.55 ? "#fff" : "#1f2933";
      box.title = `${k}: ${(100 * recall).toFixed(0)}%`;
    });
  } else {
    s.neurons.forEach((layer, l) => layer.forEach((neuron, k) => {
      const canvas = document.querySelector(`.neuron[data-layer="${l + 1}"][data-unit="${k}"]`);
      if (canvas) {
        paintMap(canvas, decodeBytes(neuron.map), s.neuron_grid, signedColour);
        canvas.title = `z = ${t("hidden", l + 1)}[${k + 1}], max |z| = ${neuron.max}`;
      }
    }));
    paintInputs(s);
    let boundaryBytes = decodeBytes(s.boundary);
    if ($("discretize").checked && s.problem === "classification") {
      boundaryBytes = boundaryBytes.map((q) => (q >= 128 ? 255 : 0));
    }
    const outputs = document.querySelectorAll(`.neuron[data-layer="${s.sizes.length - 1}"]`);
    for (const canvas of outputs) {
      const k = Number(canvas.dataset.unit);
      const bytes = k === 1 || outputs.length === 1 ? boundaryBytes : boundaryBytes.map((q) => 255 - q);
      paintMap(canvas, bytes, s.boundary_grid, probabilityColour);
      canvas.title = `y${k + 1}`;
    }
    drawBoundary(s, boundaryBytes);
  }
  drawWires(s);
}

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

// -- the trace panel -----------------------------------------------------------------------------------
async function traceSample(set, index) {
  const reply = await send("/api/trace", { set, index });
  if (reply) {
    state.trace = reply;
    renderTrace();
    if (state.snap) render();
  }
}

function onBoundaryClick(event) {
  const s = state.snap;
  if (!s || s.kind !== "plane") return;
  const rect = event.target.getBoundingClientRect();
  const map = planeToCanvas(s, rect.width);
  const x = map.fromX(event.clientX - rect.left), y = map.fromY(event.clientY - rect.top);
  let best = null;
  const consider = (points, set) => points.forEach(([px, py], index) => {
    const d = (px - x) ** 2 + (py - y) ** 2;
    if (!best || d < best.d) best = { d, set, index };
  });
  consider(s.train_points, "train");
  if ($("show-test").checked) consider(s.test_points, "test");
  if (best) traceSample(best.set, best.index);
}

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

function renderTrace() {
  const box = $("trace");
  const r = state.trace;
  if (!r) { box.innerHTML = `<p class="hint">${t("traceEmpty")}</p>`; return; }
  const limit = 10;
  const L = r.u.length;
  const image = r.x.length === 784;
  let rows = image ? "" : `<tr><th>x</th>${cells(r.x, limit)}</tr>`;
  for (let l = 0; l < L; l++) {
    rows += `<tr class="sep"><th>${t("layer", l + 1)} · ${t("u")}<sub>${l + 1}</sub></th>${cells(r.u[l], limit)}</tr>`;
    if (l < L - 1) rows += `<tr><th>${t("z")}<sub>${l + 1}</sub></th>${cells(r.z[l], limit)}</tr>`;
    else rows += `<tr><th>${t("y")}</th>${cells(r.y, limit)}</tr>`;
    rows += `<tr><th>${t("dEdu")}<sub>${l + 1}</sub></th>${cells(r.du[l], limit)}</tr>`;
  }
  const setName = r.set === "train" ? t("train") : t("test");
  box.innerHTML =
    `<div class="trace-summary">${image ? '<canvas id="trace-image" class="trace-image"></canvas>' : ""}` +
    `<span>${t("sample")}: ${setName} #${r.index}</span>` +
    `<span>${t("label")} = <b>${shownValue(r.d)}</b></span>` +
    `<span>${t("predicted")} = <b>${shownValue(r.predicted)}</b></span>` +
    `<span>${t("lossE")} = <b>${formatNumber(r.loss)}</b></span>` +
    (r.penalty ? `<span>${t("penalty")} = <b>${formatNumber(r.penalty)}</b></span>` +
                 `<span>${t("total")} = <b>${formatNumber(r.total)}</b></span>` : "") +
    (r.x.length > limit ? `<span class="hint">${t("first", limit)}</span>` : "") + `</div>` +
    `<table class="trace-table">${rows}</table>`;
  if (image) {
    const bytes = Uint8Array.from(r.x, (v) => Math.round(255 * (1 - Math.min(1, Math.max(0, v)))));
    paintMap($("trace-image"), bytes, 28, (q) => [q, q, q]);
  }
}

// -- start -------------------------------------------------------------------------------------------
async function start() {
  const response = await fetch("/api/options");
  state.options = await response.json();
  state.config = state.options.config;
  buildForm();
  fillForm();
  setLanguage(state.lang);
  buildColumns();
  for (const button of document.querySelectorAll(".lang .chip")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }
  $("play").addEventListener("click", () => {
    const playing = state.snap && state.snap.status === "playing";
    send("/api/control", { action: playing ? "pause" : "play" });
  });
  $("step").addEventListener("click", () => send("/api/control", { action: "step" }));
  $("reset").addEventListener("click", async () => {
    if (await send("/api/control", { action: "reset" })) { state.trace = null; renderTrace(); }
  });
  $("boundary").addEventListener("click", onBoundaryClick);
  $("show-test").addEventListener("change", () => render());
  $("trace-go").addEventListener("click", () => {
    const text = $("trace-index").value.trim();
    traceSample("test", /^\d+$/.test(text) ? Number(text) : text);
  });
  window.addEventListener("resize", () => render());
  await applyHash();
  listen();
}

start();
