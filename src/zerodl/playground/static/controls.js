// zerodl playground: day 2's controls (features, problem, output, L1 / L2, dropout, speed,
// discretize), links in TF Playground's URL-hash vocabulary, and the server's messages in
// Japanese. Loaded before app.js, whose functions ($, t, state, applyConfig) these call.
"use strict";

const EXTRA_TEXT = {
  ja: {
    problem: "問題の種類", classification: "分類", regression: "回帰",
    features: "特徴量 (ネットワークへの入力)", outputKind: "出力層", regularization: "正則化",
    regRate: "正則化率", dropout: "ドロップアウト率", speed: "速さ", discretize: "出力を 0/1 で表示",
    maxSpeed: "最大", perFrame: "{n} ステップ / コマ", none: "なし",
    softmax: "ソフトマックス (2 出力)", sigmoid: "シグモイド (1 出力, 2 値交差エントロピー)",
    penalty: "正則化項", total: "E + 正則化項",
    hashIgnored: "リンクの次のキーはこのプレイグラウンドにないので無視しました: {n}",
    hashSeed: "TF Playground のシード {n} は整数ではないので、整数に直して使いました。",
    busy: "前のステップの要求がまだ学習中です。終わるのを待つか、一時停止を押してください。",
    refused: "サーバーが要求を受け付けませんでした: {n}",
    mustBe: "{name} は {rule} でなければなりません{limit}。入力された値: {value}",
    pageLimit: " (このページの制限)",
    fields: { lr: "学習率", batch_size: "バッチサイズ", seed: "乱数シード", noise: "ノイズ",
              n_samples: "サンプル数", train_ratio: "訓練の割合", dropout: "ドロップアウト率",
              regularization_rate: "正則化率", regularization: "正則化", features: "特徴量",
              output: "出力層", activation: "活性化関数", optimizer: "最適化手法",
              init: "重みの初期値", dataset: "データセット", hidden: "中間層",
              action: "操作", steps: "ステップ数", index: "サンプル番号", set: "データの組",
              limit: "limit" },
  },
  en: {
    problem: "Problem type", classification: "Classification", regression: "Regression",
    features: "Features (the network's inputs)", outputKind: "Output layer",
    regularization: "Regularization", regRate: "Regularization rate", dropout: "Dropout rate",
    speed: "Speed", discretize: "Discretize output", maxSpeed: "max", perFrame: "{n} steps / frame",
    none: "none", softmax: "softmax (2 outputs)",
    sigmoid: "sigmoid (1 output, binary cross-entropy)", penalty: "penalty", total: "E + penalty",
    hashIgnored: "These keys of the link are not in this playground and were ignored: {n}",
    hashSeed: "TF Playground's seed {n} is not an integer; it was turned into one.",
    busy: "The previous step request is still training; wait for it or press pause.",
    refused: "The server refused the request: {n}",
  },
};
const EXTRA_NAMES = {
  ja: { plane: "平面 (回帰)", "reg-gauss": "ガウスの山 (回帰)" },
  en: { plane: "Plane (regression)", "reg-gauss": "Gaussians (regression)" },
};

// TF Playground's names -> this playground's.
const TF_ACTIVATIONS = { relu: "relu", tanh: "tanh", sigmoid: "sigmoid", linear: "identity" };
const TF_DATASETS = { circle: "circle", xor: "xor", gauss: "gaussian", spiral: "spiral" };
const TF_REG_DATASETS = { "reg-plane": "plane", "reg-gauss": "reg-gauss" };
const TF_FEATURES = { x: "x1", y: "x2", xSquared: "x1^2", ySquared: "x2^2", xTimesY: "x1*x2",
                      sinX: "sin(x1)", sinY: "sin(x2)" };
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];   // TF Playground's menu
const SPEEDS = [0, 1, 2, 5, 10, 50];                                    // 0: as fast as it goes
const lastDataset = { classification: "spiral", regression: "plane" };
// The link the page was opened with: read before the page writes its own state there.
let pendingHash = location.hash;

const inverse = (map, value) => Object.keys(map).find((key) => map[key] === value) ?? value;
const asNumber = (text) => (text.trim() === "" || isNaN(Number(text)) ? text : Number(text));

function isRegression(name) { return (state.options.regression_sets || []).includes(name); }

// -- the link: the page's state in the URL hash ------------------------------------------------------
function readHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const changes = {}, page = {}, ignored = [], notes = [];
  let problem = null, dataset = null, regDataset = null, features = null;
  for (const [key, value] of params) {
    if (key in TF_FEATURES) {
      features = features || [];
      if (value === "true") features.push(TF_FEATURES[key]);
      continue;
    }
    switch (key) {
      case "activation": changes.activation = TF_ACTIVATIONS[value] || value; break;
      case "batchSize": changes.batch_size = asNumber(value); break;
      case "dataset": dataset = TF_DATASETS[value] || value; break;
      case "regDataset": regDataset = TF_REG_DATASETS[value] || value; break;
      case "learningRate": changes.lr = asNumber(value); break;
      case "regularization": changes.regularization = value; break;
      case "regularizationRate": changes.regularization_rate = asNumber(value); break;
      case "noise": changes.noise = Number(value) / 100; break;       // TF: 0..50
      case "networkShape": changes.hidden = value === "" ? [] : value.split(",").map(asNumber); break;
      case "seed":
        if (/^\d+$/.test(value)) changes.seed = Number(value);
        else {          // TF's seeds are text such as 0.4372
          changes.seed = Math.floor(Math.abs(Number(value) || 0) * 2 ** 31) % 2 ** 31;
          notes.push(t("hashSeed", value));
        }
        break;
      case "showTestData": page.showTestData = value === "true"; break;
      case "discretize": page.discretize = value === "true"; break;
      case "percTrainData": changes.train_ratio = Number(value) / 100; break;
      case "problem": problem = value; break;
      case "optimizer": case "init": case "output": changes[key] = value; break;
      case "dropout": changes.dropout = asNumber(value); break;
      case "samples": changes.n_samples = asNumber(value); break;
      default: ignored.push(key);
    }
  }
  if (features) changes.features = features;
  const chosen = problem === "regression" ? regDataset || "plane" : dataset;
  if (chosen) changes.dataset = chosen;
  if (ignored.length) notes.push(t("hashIgnored", ignored.join(", ")));
  return { changes, page, notes };
}

function writeHash() {
  const c = state.config;
  if (!c || pendingHash !== null) return;
  const regression = isRegression(c.dataset);
  lastDataset[regression ? "regression" : "classification"] = c.dataset;
  const params = new URLSearchParams();
  const put = (key, value) => params.set(key, String(value));
  put("activation", inverse(TF_ACTIVATIONS, c.activation));
  put("batchSize", c.batch_size);
  put("dataset", inverse(TF_DATASETS, lastDataset.classification));
  put("regDataset", inverse(TF_REG_DATASETS, lastDataset.regression));
  put("learningRate", c.lr);
  put("regularization", c.regularization);
  put("regularizationRate", c.regularization_rate);
  put("noise", Math.round(c.noise * 100));
  put("networkShape", c.hidden.join(","));
  put("seed", c.seed);
  put("showTestData", $("show-test").checked);
  put("discretize", $("discretize").checked);
  put("percTrainData", Math.round(c.train_ratio * 100));
  for (const [key, name] of Object.entries(TF_FEATURES)) put(key, c.features.includes(name));
  put("problem", regression ? "regression" : "classification");
  // This playground's own settings, after TF Playground's.
  for (const key of ["optimizer", "init", "output", "dropout"]) put(key, c[key]);
  put("samples", c.n_samples);
  history.replaceState(null, "", `#${params.toString().replaceAll("%2C", ",")}`);
}

async function applyHash() {
  const hash = pendingHash !== null ? pendingHash : location.hash;
  pendingHash = null;
  if (!hash || hash === "#") { writeHash(); return; }
  const read = readHash(hash);
  const { page, notes } = read;
  let changes = read.changes;
  if (changes.dataset === "mnist" && state.config.dataset !== "mnist") {
    changes = { ...MNIST_START, ...changes };      // what the MNIST button starts with
  }
  if ("showTestData" in page) $("show-test").checked = page.showTestData;
  if ("discretize" in page) $("discretize").checked = page.discretize;
  const dataset = changes.dataset || state.config.dataset;
  if (!("output" in changes)) {
    if (isRegression(dataset)) changes.output = "identity";
    else if (state.config.output === "identity") changes.output = "softmax";
  }
  const note = $("hash-note");
  note.hidden = !notes.length;
  note.textContent = notes.join(" ");
  await applyConfig(changes);
  writeHash();
}

// -- the controls --------------------------------------------------------------------------------------
function buildDay2Form() {
  const o = state.options;
  $("problem").addEventListener("change", () => {
    chooseDataset(lastDataset[$("problem").value]);
  });
  const box = $("features");
  box.innerHTML = "";
  for (const name of o.features) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" value="${name}"> ${name}`;
    box.appendChild(label);
  }
  box.addEventListener("change", () => {
    const chosen = [...box.querySelectorAll("input:checked")].map((input) => input.value);
    applyConfig({ features: chosen });
  });
  labelDay2();
  fillSelect($("regularization_rate"), REG_RATES.map(String));
  for (const id of ["output", "regularization"]) {
    $(id).addEventListener("change", () => applyConfig({ [id]: $(id).value }));
  }
  $("regularization_rate").addEventListener("change",
    () => applyConfig({ regularization_rate: Number($("regularization_rate").value) }));
  $("dropout").addEventListener("change", () => applyConfig({ dropout: asNumber($("dropout").value) }));
  $("speed").addEventListener("change", () => {
    const n = Number($("speed").value);
    send("/api/control", n ? { action: "speed", steps: n } : { action: "speed" });
  });
  $("discretize").addEventListener("change", () => { render(); writeHash(); });
  $("show-test").addEventListener("change", () => writeHash());
  window.addEventListener("hashchange", () => applyHash());
}

/** The menus whose entries are words: filled again in the page's language. */
function labelDay2() {
  const o = state.options;
  const keep = ["problem", "output", "regularization", "speed"].map((id) => [id, $(id).value]);
  fillSelect($("problem"), ["classification", "regression"], (v) => t(v));
  fillSelect($("output"), o.outputs, (v) => t(v));
  fillSelect($("regularization"), o.regularizations, (v) => (v === "none" ? t("none") : v));
  fillSelect($("speed"), SPEEDS.map(String), (v) => (v === "0" ? t("maxSpeed") : t("perFrame", v)));
  for (const [id, value] of keep) if (value) $(id).value = value;
  for (const button of $("datasets").children) {
    const name = EXTRA_NAMES[state.lang][button.dataset.dataset];
    if (name) button.lastChild.textContent = name;
  }
}

function fillDay2Form() {
  const c = state.config;
  const regression = isRegression(c.dataset), mnist = c.dataset === "mnist";
  $("problem").value = regression ? "regression" : "classification";
  for (const input of $("features").querySelectorAll("input")) {
    input.checked = c.features.includes(input.value);
  }
  $("features-field").hidden = mnist;
  $("output-field").hidden = regression || mnist;
  if (!regression) $("output").value = c.output;
  $("regularization").value = c.regularization;
  const rate = $("regularization_rate");
  if (![...rate.options].some((option) => Number(option.value) === c.regularization_rate)) {
    fillSelect(rate, [...REG_RATES, c.regularization_rate].sort((a, b) => a - b).map(String));
  }
  rate.value = String(c.regularization_rate);
  if (document.activeElement !== $("dropout")) $("dropout").value = String(c.dropout);
  for (const button of $("datasets").children) {
    button.hidden = isRegression(button.dataset.dataset) !== regression;
  }
  writeHash();
}

// -- the server's messages in Japanese -------------------------------------------------------------------
const RULES_JA = [
  [/^a number in \[(.+), (.+)\]$/, "[$1, $2] の範囲の数"],
  [/^a number in \[(.+), (.+)\)$/, "$1 以上 $2 未満の数"],
  [/^an integer in \[(.+), (.+)\]$/, "[$1, $2] の範囲の整数"],
  [/^an integer >= (.+)$/, "$1 以上の整数"],
  [/^a number in \(0\.0, inf\) or None$/, "正の数"],
  [/^a number in \[0\.0, inf\) or None$/, "0 以上の数"],
  [/^a list of at most (\d+) layer sizes$/, "$1 層までの、各層のニューロン数のリスト"],
  [/^one of (.+)$/, "$1 のいずれか"],
  [/^a non-empty list of distinct names from (.+)$/, "$1 から重複なく選んだ 1 つ以上の名前"],
  [/^x1, x2 for mnist \(its inputs are the pixels\)$/, "mnist では x1, x2 (入力は画素です)"],
];

// Whole messages of the server that are not "X must be RULE; got VALUE.".
const MESSAGES_JA = [
  [/^the request must be JSON/, "リクエストは JSON でなければなりません (Content-Type: application/json)。"],
  [/^the request body is not valid JSON\.$/, "リクエストの本文が正しい JSON ではありません。"],
  [/^the request body must not nest more deeply than (\d+) levels\.$/, "リクエストの入れ子は $1 段までです。"],
  [/^the request must be at most (\d+) bytes\.$/, "リクエストは $1 バイトまでです。"],
  [/^unknown configuration field\(s\): (.*)\.$/, "設定に知らない項目があります: $1"],
  [/^the configuration must be a JSON object; got (.*)\.$/, "設定は JSON のオブジェクトでなければなりません。入力: $1"],
  [/^control must be .*$/, "操作は {\"action\": ..., \"steps\": n} の形で送ってください。"],
  [/^trace must be .*$/, "追跡は {\"set\": \"train\" か \"test\", \"index\": i} の形で送ってください。"],
  [/^refused: (.*)$/, "拒否しました: $1"],
];

function translateError(message) {
  if (state.lang !== "ja" || !message) return message;
  for (const [pattern, text] of MESSAGES_JA) {
    if (pattern.test(message)) return message.replace(pattern, text);
  }
  if (message.startsWith("a step request is still training")) return t("busy");
  if (message.startsWith("MNIST is not available")) return `${t("mnistMissing")}: ${message}`;
  const m = /^(\S+) must be (.+?)( in the playground \(a limit of its page\))?; got (.*)\.$/s.exec(message);
  if (!m) return t("refused", message);
  const [, name, rule, limit, value] = m;
  let ruleJa = rule;
  for (const [pattern, text] of RULES_JA) {
    if (pattern.test(rule)) { ruleJa = rule.replace(pattern, text); break; }
  }
  const field = name.replace(/\[\d+\]$/, "");
  const fieldJa = (TEXT.ja.fields[field] || field) + (name === field ? "" : name.slice(field.length));
  return TEXT.ja.mustBe.replace("{name}", fieldJa).replace("{rule}", ruleJa)
    .replace("{limit}", limit ? TEXT.ja.pageLimit : "").replace("{value}", value);
}
