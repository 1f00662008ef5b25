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
  // A divergence stays said: a control reply may come after the snapshot that showed it.
  const diverged = reply.error === "diverged" || (path === "/api/control" && body.action !==
    "reset" && state.snap && state.snap.error === "diverged");
  showError(diverged ? t("diverged") : null);
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

// MNIST's first run on the page: a network and settings that learn within a minute.
const MNIST_START = { n_samples: 2000, train_ratio: 0.8, hidden: [32], optimizer: "adam",
                      lr: 0.003, batch_size: 32, activation: "relu", init: "he" };

function chooseDataset(name) {
  const limits = state.options.limits;
  const changes = { dataset: name };
  const wasMnist = isMnist();
  if (name === "mnist" && !wasMnist) {
    Object.assign(changes, MNIST_START);
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
