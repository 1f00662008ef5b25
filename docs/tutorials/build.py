"""Write the day-1 tutorial notebooks of docs/tutorials/ (outputs cleared).

    python docs/tutorials/build.py

Each notebook is listed here as a sequence of markdown and code cells, so that the notebooks
can be regenerated and reviewed as plain text. The notebooks read ZERODL_TUTORIAL_FAST=1
(set by tests/test_tutorials.py) to cut iteration counts; everything else runs as a learner
would run it.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''\
%matplotlib inline
import os
import numpy as np
import matplotlib.pyplot as plt
import zerodl
from zerodl import functions as F

# The test suite sets ZERODL_TUTORIAL_FAST=1: the same cells, fewer iterations.
FAST = os.environ.get("ZERODL_TUTORIAL_FAST", "0") not in ("", "0")
np.set_printoptions(precision=4, suppress=True)'''

SETUP_NOTE = (
    "準備：NumPy、matplotlib と zerodl を読み込みます。`FAST` はテスト用に反復回数を減らすスイッチです。\n\n"
    "Setup: NumPy, matplotlib and zerodl. `FAST` is a switch the test suite uses to run fewer "
    "iterations.")


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


def header(title_ja: str, title_en: str, intro: str) -> list:
    return [md(f"# {title_ja}\n# {title_en}\n\n{intro.strip()}"), md(SETUP_NOTE), code(SETUP)]


# --------------------------------------------------------------------------------------------
# 1. Input layer to hidden layer
# --------------------------------------------------------------------------------------------

NB1 = header("1. 入力層〜中間層", "1. From the input layer to the hidden layer", r"""
中間層の1つのユニットは、入力 $x$ に重み $W$ を掛けて足し合わせ、バイアス $b$ を加えた
**総入力** $u = xW + b$ を計算し、それを活性化関数 $f$ に通して **中間層出力** $z = f(u)$ を出します。
このノートでは、単一ユニット、複数ユニット、3層ネットワークの順に、その値を一つずつ確かめます。

A hidden unit multiplies its inputs $x$ by weights $W$, adds them up with a bias $b$ into the
**total input** $u = xW + b$, and passes it through an activation $f$: the **hidden output**
$z = f(u)$. We check these values one at a time: one unit, several units, a 3-layer network.
""") + [
    md(r"""
## 単一ユニット / A single unit

入力 2 個、重み 2 個、バイアス 1 個。$u = 2 \times 0.1 + 3 \times 0.2 + 0.5 = 1.3$ です。

Two inputs, two weights, one bias: $u = 2 \times 0.1 + 3 \times 0.2 + 0.5 = 1.3$.
"""),
    code(r"""
x = np.array([2.0, 3.0])          # 入力 / input
W = np.array([[0.1], [0.2]])      # 重み / weights, shape (2, 1)
b = 0.5                           # バイアス / bias
u = x @ W + b                     # 総入力 / total input
print("総入力 u =", u)
assert np.allclose(u, 1.3)
"""),
    md(r"""
zerodl の `Dense` 層は同じ計算 $u = xW + b$ を、サンプルを行に並べたバッチ (N, 入力数) に対して行います。

zerodl's `Dense` layer computes the same $u = xW + b$ for a batch whose rows are samples, shape (N, n_in).
"""),
    code(r"""
layer = zerodl.Dense(2, 1, init="zeros", dtype=np.float64)
layer.W[:] = W
layer.b[:] = b
print(layer.forward(x.reshape(1, 2)))    # [[1.3]]
"""),
    md(r"""
## 試してみよう：重みとバイアスの初期値 / Try it: initial weights and biases

講座では `np.zeros`, `np.ones`, `np.random.rand`, `np.random.randint` で重みを作り替えます。
zerodl ではライブラリの外の乱数状態を変えないよう、乱数は `np.random.default_rng(seed)` の
ジェネレータから引きます（同じ seed なら同じ結果）。

The course swaps the weights for zeros, ones, `rand` and `randint`. Here random numbers come
from a `np.random.default_rng(seed)` generator, so a seed reproduces them and NumPy's global
state is left alone, as zerodl itself does.
"""),
    code(r"""
rng = np.random.default_rng(0)
weights = {
    "zeros": np.zeros(2),
    "ones": np.ones(2),
    "rand [0, 1)": rng.random(2),
    "randint 0..4": rng.integers(0, 5, size=2),
}
for name, w in weights.items():
    print(f"W = {name:<13} {w} -> u = {x @ w + b:.4f}")
for name, bias in {"rand [0, 1)": rng.random(), "rand * 10 - 5": rng.random() * 10 - 5}.items():
    print(f"b = {name:<13} {bias:.4f} -> u = {x @ W[:, 0] + bias:.4f}")
"""),
    md(r"""
zerodl の初期化子は名前か数値で選びます：`"zeros"`, `"ones"`, `"uniform"`（講座の `rand`）、
数値は正規分布の標準偏差（講座の `0.01`）、そして `"xavier"` と `"he"`。

zerodl's initialisers go by name or number: `"zeros"`, `"ones"`, `"uniform"` (the course's
`rand`), a number for a normal's standard deviation (the course's `0.01`), `"xavier"`, `"he"`.
"""),
    code(r"""
for init in ["zeros", "ones", "uniform", 0.01, "xavier", "he"]:
    net = zerodl.mlp([2, 3], output="identity", init=init, seed=0)
    print(f"{str(init):>8}: W1 = {net.params['W1'].ravel()}")
"""),
    md(r"""
重みをすべて同じ値にすると、中間層のユニットはいつまでも同じ値・同じ勾配のままで、
何個並べても 1 個分の働きしかしません。乱数で初期化するのはこの対称性を壊すためです。

With all weights equal, every hidden unit computes the same value and receives the same
gradient, forever: many units act as one. Random initial weights break this symmetry.
"""),
    code(r"""
net = zerodl.mlp([2, 3, 1], activation="sigmoid", output="identity", init="ones", dtype=np.float64)
xs, ds = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([[1.0], [0.0]])
net.fit(xs, ds, epochs=50, batch_size=None, verbose=0)
print("W1 after training (all columns equal):\n", net.params["W1"])
assert np.allclose(net.params["W1"], net.params["W1"][:, :1])
"""),
    md(r"""
## 複数ユニット / Several units

入力 4 個、中間層のユニット 3 個：重みは (4, 3) の行列、バイアスは 3 個。
活性化関数にはシグモイドを使います。

Four inputs, three units: a (4, 3) weight matrix and three biases; sigmoid activation.
"""),
    code(r"""
x = np.array([1.0, 5.0, 2.0, -1.0])
W = np.array([[0.1, 0.2, 0.3],
              [0.2, 0.3, 0.4],
              [0.3, 0.4, 0.5],
              [0.4, 0.5, 0.6]])
b = np.array([0.5, 0.2, -0.1])
u = x @ W + b             # 総入力 / total input, shape (3,)
z = F.sigmoid(u)          # 中間層出力 / hidden output
print("総入力 u =", u)
print("中間層出力 z =", z)
assert np.allclose(u, [1.8, 2.2, 2.6]) and np.allclose(z, [0.858, 0.900, 0.931], atol=5e-4)
"""),
    md(r"""
## 3層ネットワーク / A 3-layer network

2 → 3 → 2 → 2。中間層は ReLU、出力層は恒等写像。`model.trace(x)` は講座のセルと同じ順序で
重み・バイアス・総入力・中間層出力・出力を、形 (shape) とともに表示し、値を dict で返します
（`lang="en"` で英語表示）。

2 → 3 → 2 → 2 with ReLU hidden layers and an identity output. `model.trace(x)` prints the
weights, biases, total inputs, hidden outputs and output in the course's order, with their
shapes, and returns the values as a dict (`lang="en"` for English labels).
"""),
    code(r"""
net = zerodl.Sequential([zerodl.Dense(2, 3, dtype=np.float64), zerodl.ReLU(),
                         zerodl.Dense(3, 2, dtype=np.float64), zerodl.ReLU(),
                         zerodl.Dense(2, 2, dtype=np.float64)], output="identity")
net.params["W1"][:] = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]
net.params["b1"][:] = [0.1, 0.2, 0.3]
net.params["W2"][:] = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]
net.params["b2"][:] = [0.1, 0.2]
net.params["W3"][:] = [[0.1, 0.3], [0.2, 0.4]]
net.params["b3"][:] = [1.0, 2.0]
values = net.trace(np.array([[1.0, 2.0]]))
"""),
    md(r"""
## 確認テスト / Check questions

**Q. ディープラーニングは結局何をしようとしているか。最適化の対象はどの値か。**
入力から出力への変換（関数）を、データから学ぶことです。最適化するのは重み $W$ とバイアス $b$：
誤差が小さくなるように少しずつ動かします。下のセルでは学習前後で `params` だけが変わり、誤差が減ります。

**Q. What is deep learning trying to do, and which values are optimised?** It learns a function
from inputs to outputs from data, by adjusting the weights $W$ and biases $b$ to make the error
small. Below, training changes only `params`, and the loss goes down.
"""),
    code(r"""
rng = np.random.default_rng(1)
xs = rng.standard_normal((200, 2))
ds = (xs[:, 0] + xs[:, 1] > 0).astype(int)
net = zerodl.mlp([2, 3, 2], seed=0)
before = {k: v.copy() for k, v in net.params.items()}
loss_before = net.loss(xs, ds)
net.fit(xs, ds, epochs=20, batch_size=20, optimizer=zerodl.optimizers.SGD(lr=0.5), verbose=0)
print("optimised values:", {k: v.shape for k, v in net.params.items()})
print(f"loss {loss_before:.3f} -> {net.loss(xs, ds):.3f}")
assert all(not np.array_equal(before[k], net.params[k]) for k in before)
"""),
    md(r"""
**Q. 入力層 2 ノード 1 層、中間層 3 ノード 2 層、出力層 1 ノード 1 層のネットワークの重みの数は？**
$2 \times 3 + 3 \times 3 + 3 \times 1 = 18$ 個の重みと $3 + 3 + 1 = 7$ 個のバイアス。

**Q. A network with 2 inputs, two hidden layers of 3 units and 1 output: how many weights?**
$2 \times 3 + 3 \times 3 + 3 \times 1 = 18$ weights and $3 + 3 + 1 = 7$ biases.
"""),
    code(r"""
net = zerodl.mlp([2, 3, 3, 1], activation="relu", output="identity", seed=0)
net.summary()
n_weights = sum(v.size for k, v in net.params.items() if k.startswith("W"))
n_biases = sum(v.size for k, v in net.params.items() if k.startswith("b"))
print("weights:", n_weights, "biases:", n_biases)
assert (n_weights, n_biases) == (18, 7)
"""),
    md(r"""
**Q. 動物分類の例：入力（体長・体重・ひげの本数・毛の平均長）から犬・猫・ねずみの確率を出す。**
入力 4、出力 3 のネットワークで、出力層のソフトマックスが 3 つの確率（合計 1）を出します
（重みは学習前の乱数なので確率にはまだ意味がありません）。

**Q. Animals: from (length, weight, whiskers, fur length) to the probabilities of dog, cat, mouse.**
Four inputs, three softmax outputs that sum to 1 (untrained weights, so the numbers mean nothing yet).
"""),
    code(r"""
animal = np.array([[60.0, 20.0, 12.0, 3.0]]) / 100     # scaled features
net = zerodl.mlp([4, 5, 3], seed=0)
p = net.predict(animal)
print({name: round(float(v), 3) for name, v in zip(["dog", "cat", "mouse"], p[0])}, "sum =", p.sum())
"""),
    md(r"""
**Q. $u = Wx + b$ を Python で書くと？** `u1 = np.dot(x, W1) + b1`（バッチを行に並べるので $xW$ の順）。
zerodl の `Dense.forward` も同じ式で、`x @ W + b` です。

**Q. $u = Wx + b$ in Python?** `u1 = np.dot(x, W1) + b1` (samples are rows, hence $xW$).
zerodl's `Dense.forward` is the same formula, `x @ W + b`.
"""),
    code(r"""
x = np.array([[1.0, 2.0]])
u1 = np.dot(x, values["W1"]) + values["b1"]
print(u1, values["u1"])
assert np.allclose(u1, values["u1"])
"""),
    md(r"""
**Q. 中間層の出力を定義しているソースは？** `z1 = functions.relu(u1)`（講座では `sigmoid` の場合も）。
trace の 中間層出力1 と一致します。

**Q. Which line defines the hidden layer's output?** `z1 = functions.relu(u1)` (or `sigmoid`);
it matches the trace's hidden output z1.
"""),
    code(r"""
z1 = F.relu(u1)
print(z1)
assert np.allclose(z1, values["z1"])
"""),
]

# --------------------------------------------------------------------------------------------
# 2. Activation functions
# --------------------------------------------------------------------------------------------

NB2 = header("2. 活性化関数", "2. Activation functions", r"""
活性化関数 $f$ は総入力 $u$ を中間層出力 $z = f(u)$ に変えます。学習（誤差逆伝播）では
その導関数 $f'(u)$ を使います。ステップ関数、シグモイド、ReLU、tanh、Leaky ReLU を、
導関数と並べて描きます。

An activation $f$ turns the total input $u$ into the output $z = f(u)$; learning uses its
derivative $f'(u)$. Below: step, sigmoid, ReLU, tanh and leaky ReLU, each beside its derivative.
""") + [
    code(r"""
u = np.linspace(-5, 5, 401)
pairs = {
    "step": (F.step_function, F.d_step_function),
    "sigmoid": (F.sigmoid, F.d_sigmoid),
    "ReLU": (F.relu, F.d_relu),
    "tanh": (F.tanh, F.d_tanh),
    "leaky ReLU (alpha=0.1)": (lambda v: F.leaky_relu(v, 0.1), lambda v: F.d_leaky_relu(v, 0.1)),
}
fig, axes = plt.subplots(1, len(pairs), figsize=(16, 3.2), sharex=True)
for ax, (name, (f, df)) in zip(axes, pairs.items()):
    ax.plot(u, f(u), label="f(u)")
    ax.plot(u, df(u), "--", label="f'(u)")
    ax.set_title(name)
    ax.grid(alpha=0.3)
axes[0].legend()
plt.show()
"""),
    md(r"""
zerodl の `d_sigmoid(u)` などの導関数は **総入力 $u$** を受け取ります（活性化の出力 $z$ ではありません）。
数値微分と比べて確かめます（ReLU の折れ目 0 は避けます）。

zerodl's derivatives `d_sigmoid(u)` and friends take the **total input $u$**, not the output
$z$. We check them against numerical differentiation (away from ReLU's kink at 0).
"""),
    code(r"""
points = np.array([-2.3, -0.7, 0.4, 1.9])
for name, (f, df) in pairs.items():
    numeric = F.numerical_gradient(lambda v: float(np.sum(f(v))), points.copy())
    print(f"{name:<24} analytic {df(points)}  numeric {numeric}")
    assert np.allclose(df(points), numeric, atol=1e-6)
"""),
    md(r"""
## 確認テスト：線形と非線形の違い / Check question: linear vs non-linear

線形な関数は $f(x + y) = f(x) + f(y)$ と $f(kx) = k f(x)$ を満たします。恒等写像は満たし、
シグモイドは満たしません。

A linear function satisfies $f(x + y) = f(x) + f(y)$ and $f(kx) = k f(x)$: the identity does,
the sigmoid does not.
"""),
    code(r"""
a, c, k = np.array([0.5, -1.0]), np.array([2.0, 0.3]), 3.0
for name, f in [("identity", F.identity), ("sigmoid", F.sigmoid)]:
    additive = np.allclose(f(a + c), f(a) + f(c))
    homogeneous = np.allclose(f(k * a), k * f(a))
    print(f"{name:<8} f(x+y)=f(x)+f(y): {additive}, f(kx)=kf(x): {homogeneous}")
"""),
    md(r"""
線形な層は何層重ねても 1 層の線形変換 $x W_1 W_2$ にしかなりません。だから非線形な活性化関数が要ります。
XOR（排他的論理和）は線形モデルでは解けませんが、tanh の中間層を 1 つ入れると解けます。

Linear layers stacked are still one linear map, $x W_1 W_2$; that is why activations are
non-linear. XOR cannot be learned by a linear model, but one tanh hidden layer learns it.
"""),
    code(r"""
W1, W2 = np.random.default_rng(0).standard_normal((2, 2, 2))
two_linear = zerodl.Sequential([zerodl.Dense(2, 2, dtype=np.float64), zerodl.Identity(),
                                zerodl.Dense(2, 2, dtype=np.float64)], output="identity")
two_linear.params["W1"][:], two_linear.params["W2"][:] = W1, W2
x = np.array([[1.0, -2.0], [0.5, 0.25]])
print(two_linear.predict(x), "\n", x @ (W1 @ W2))
assert np.allclose(two_linear.predict(x), x @ (W1 @ W2))

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
D = np.array([0, 1, 1, 0])
epochs = 500 if FAST else 2000
for sizes, act in [([2, 2], "relu"), ([2, 8, 2], "tanh")]:
    net = zerodl.mlp(sizes, activation=act, init="xavier", seed=0)
    net.fit(X, D, epochs=epochs, batch_size=None, optimizer=zerodl.optimizers.SGD(0.5), verbose=0)
    print(f"{'-'.join(map(str, sizes)):<6} XOR accuracy {net.evaluate(X, D)['accuracy']}")
"""),
    md(r"""
**Q. 配布されたソースコードで活性化関数を使っている箇所は？** `z1 = functions.relu(u1)`、
`z2 = functions.sigmoid(u2)` のように、総入力を活性化関数に通す行です。

**Q. Where does the course's code apply the activation?** Lines like `z1 = functions.relu(u1)`:
the total input goes through the activation.
"""),
    code(r"""
u1 = np.array([[-1.0, 0.0, 2.0]])
z1 = F.relu(u1)
print(z1)
"""),
    md(r"""
## 注意：導関数は総入力 $u$ に適用する / Careful: derivatives take $u$, not $z$

講座のコードには、導関数を活性化の **出力** に適用している箇所があります（`d_sigmoid(z1)` のように、
本来は `u1` を渡すところ）。シグモイドでは値が変わってしまいます。正しくは
`d_sigmoid(u1)`、または出力から直接 `z1 * (1 - z1)`（zerodl の `Sigmoid` 層の backward はこれ）。

ReLU では $z > 0 \iff u > 0$ なので `d_relu(z1)` は偶然正しい値になりますが、シグモイドの
ネットワークで `d_relu` を使うと、出力 $z$ は常に正なので導関数がすべて 1 になり、誤りです。

The course's code sometimes applies a derivative to an activation's **output** (`d_sigmoid(z1)`
where `u1` was meant). For the sigmoid that changes the value. Use `d_sigmoid(u1)`, or
`z1 * (1 - z1)` from the output (what zerodl's `Sigmoid` layer does in backward). For ReLU,
$z > 0 \iff u > 0$, so `d_relu(z1)` happens to be right; but `d_relu` in a sigmoid network sees
outputs that are always positive and returns 1 everywhere, which is wrong. Notebook 5 shows
the effect on the gradient.
"""),
    code(r"""
u1 = np.array([-2.0, 0.0, 2.0])
z1 = F.sigmoid(u1)
print("d_sigmoid(u1)  (correct)   ", F.d_sigmoid(u1))
print("z1 * (1 - z1)  (correct)   ", z1 * (1 - z1))
print("d_sigmoid(z1)  (course bug)", F.d_sigmoid(z1))
print("d_relu(z1)     (wrong net) ", F.d_relu(z1))
print("ReLU: d_relu(u) == d_relu(relu(u)):", np.array_equal(F.d_relu(u1), F.d_relu(F.relu(u1))))
"""),
]

# --------------------------------------------------------------------------------------------
# 3. Output layers and losses
# --------------------------------------------------------------------------------------------

NB3 = header("3. 出力層と誤差関数", "3. Output layers and losses", r"""
| 問題 / task | 出力層 / output | 誤差関数 / loss |
|---|---|---|
| 多クラス分類 / multi-class | ソフトマックス / softmax | 交差エントロピー / cross-entropy |
| 回帰 / regression | 恒等写像 / identity | 二乗誤差 / squared error |
| 二値分類 / binary | シグモイド / sigmoid | 二値交差エントロピー / binary cross-entropy |

zerodl は出力層と誤差関数を組にして (`mlp(output="softmax" | "identity" | "sigmoid")`)、
勾配 $\partial E / \partial u$ を正確かつ安定に計算します。

zerodl pairs each output layer with its loss (`mlp(output=...)`) so that the gradient
$\partial E / \partial u$ is exact and stable.
""") + [
    md(r"""
## 多クラス分類 2-3-4 / Multi-class classification 2-3-4
"""),
    code(r"""
net = zerodl.mlp([2, 3, 4], activation="relu", output="softmax", init="xavier", seed=0,
                 dtype=np.float64)
values = net.trace(np.array([[1.0, 2.0]]), d=np.array([[0, 0, 0, 1]]))
"""),
    md(r"""
試してみよう：ノード数を 3-5-6 に。`print_fn=None` で表示を止め、返り値の dict から値を読みます。

Try it: 3-5-6. `print_fn=None` silences the trace; the returned dict holds the values.
"""),
    code(r"""
net = zerodl.mlp([3, 5, 6], output="softmax", init="xavier", seed=0, dtype=np.float64)
v = net.trace(np.array([[1.0, 2.0, 3.0]]), d=np.array([[0, 0, 0, 1, 0, 0]]), print_fn=None)
print("出力 y =", v["y"], "sum =", v["y"].sum(), " 誤差 =", v["loss"])
assert np.isclose(v["loss"], -np.log(v["y"][0, 3]))
"""),
    md(r"""
## 回帰 2-3-2 → 3-5-4 / Regression
"""),
    code(r"""
net = zerodl.mlp([2, 3, 2], output="identity", init="xavier", seed=0, dtype=np.float64)
values = net.trace(np.array([[1.0, 2.0]]), d=np.array([[0.5, 0.5]]))
net = zerodl.mlp([3, 5, 4], output="identity", init="xavier", seed=0, dtype=np.float64)
v = net.trace(np.array([[1.0, 2.0, 3.0]]), d=np.array([[0.5, 0.5, 0.5, 0.5]]), print_fn=None)
print("3-5-4: 出力 y =", v["y"], " 誤差 =", v["loss"])
assert np.isclose(v["loss"], 0.5 * np.mean((v["y"] - 0.5) ** 2))
"""),
    md(r"""
## 二値分類 2-3-1 → 5-10-20-1 / Binary classification
"""),
    code(r"""
net = zerodl.mlp([2, 3, 1], output="sigmoid", init="xavier", seed=0, dtype=np.float64)
values = net.trace(np.array([[1.0, 2.0]]), d=np.array([[1.0]]))
net = zerodl.mlp([5, 10, 20, 1], output="sigmoid", init="xavier", seed=0, dtype=np.float64)
v = net.trace(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), d=np.array([[1.0]]), print_fn=None)
print("5-10-20-1: 出力 y =", v["y"], " 誤差 =", v["loss"])
assert np.isclose(v["loss"], -np.log(v["y"][0, 0]))
"""),
    md(r"""
## 講座の交差エントロピーが誤る場合 / Where the course's cross-entropy goes wrong

講座の `cross_entropy_error` は one-hot の正解を `argmax` で番号に直し、その番号の出力の
$-\log(y + 10^{-7})$ を平均します。出力が 1 列（シグモイド 1 個）だと `argmax` は常に 0 なので、
**正解ラベルに関係なく** $-\log y$ になり、$y = 1$ では $-\log(1 + 10^{-7}) < 0$、つまり **負の誤差**
になります。$-\sum d \log y$ の形でも、$d = 0$ のときは常に 0 で、間違いを罰しません。
下のセルはその計算を（講座のコードを写さずに）再現したものです。

The course's `cross_entropy_error` turns one-hot labels into indices with `argmax` and averages
$-\log(y + 10^{-7})$ of the picked outputs. With one output column `argmax` is always 0, so the
loss is $-\log y$ **whatever the label**, and at $y = 1$ it is $-\log(1 + 10^{-7}) < 0$: a
**negative loss**. The form $-\sum d \log y$ is 0 for every $d = 0$ sample, so it never
penalises a wrong answer there. The cell below recomputes both (our rewrite of the computation).
"""),
    code(r"""
def course_cross_entropy(d, y):
    # what the course's formula computes when y has one column (rewritten for illustration)
    y, d = np.atleast_2d(y), np.atleast_2d(d)
    picked = y[np.arange(len(y)), d.argmax(axis=1)]      # argmax of one column: always 0
    return float(-np.mean(np.log(picked + 1e-7)))

def sum_d_log_y(d, y):
    return float(-np.sum(np.atleast_2d(d) * np.log(np.atleast_2d(y))))

print(f"{'y':>4} {'d':>2} {'course':>10} {'-sum d log y':>13} {'zerodl':>8}")
for y in (0.9, 1.0):
    for d in (0.0, 1.0):
        Y, Dl = np.array([[y]]), np.array([[d]])
        ours = F.cross_entropy_error(Dl, Y)      # one column -> binary cross-entropy
        # (+ 0.0 turns -0.0 into 0.0 for printing)
        print(f"{y:4} {d:2.0f} {course_cross_entropy(Dl, Y):10.4g} {sum_d_log_y(Dl, Y) + 0.0:13.4g} "
              f"{ours + 0.0:8.4f}")
        assert ours >= 0 and np.isclose(ours, F.binary_cross_entropy(Dl, Y))

ys = np.linspace(0.01, 0.99, 197)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
for ax, label in zip(axes, (0.0, 1.0)):
    Dl = np.full((len(ys), 1), label)
    per_sample_course = -np.log(ys + 1e-7)                     # same curve for both labels
    per_sample_ours = [F.cross_entropy_error(Dl[:1], np.array([[v]])) for v in ys]
    ax.plot(ys, per_sample_course, "--", label="course formula")
    ax.plot(ys, per_sample_ours, label="zerodl (binary cross-entropy)")
    ax.axhline(0, color="gray", lw=0.8)
    ax.set_title(f"label d = {label:.0f}"); ax.set_xlabel("sigmoid output y"); ax.grid(alpha=0.3)
axes[0].set_ylabel("loss"); axes[0].legend()
plt.show()
"""),
    md(r"""
修正：1 出力の二値分類には二値交差エントロピー $E = -[d \log y + (1 - d) \log(1 - y)]$ を使います。
zerodl の `cross_entropy_error` は 1 列の出力をこれで計算し、`mlp(output="sigmoid")` も同じ誤差です。
誤差は 0 以上で、$y = d$ のときだけ 0 になります。

The fix: binary cross-entropy $E = -[d \log y + (1 - d) \log(1 - y)]$ for one output.
zerodl's `cross_entropy_error` uses it for a single column, as does `mlp(output="sigmoid")`;
it is never negative and 0 only when $y = d$.

## 確認テスト：なぜ二乗するか、1/2 は何のためか / Why square the error, and why 1/2
"""),
    code(r"""
d = np.array([1.0, 2.0])
y = np.array([2.0, 1.0])                      # errors +1 and -1
print("sum of errors:", np.sum(y - d), " sum of squared errors:", np.sum((y - d) ** 2))

# With 1/2 the derivative is just (y - d); without it, 2 (y - d).
y = np.array([0.3, 0.8]); d = np.array([0.0, 1.0])
with_half = F.numerical_gradient(lambda v: 0.5 * np.sum((v - d) ** 2), y.copy())
without = F.numerical_gradient(lambda v: np.sum((v - d) ** 2), y.copy())
print("y - d =", y - d, " d/dy of 1/2 sum:", with_half, " d/dy of sum:", without)
assert np.allclose(with_half, y - d) and np.allclose(without, 2 * (y - d))
# zerodl's mean_squared_error averages over all elements, so its gradient is (y - d) / size
assert np.allclose(F.numerical_gradient(lambda v: F.mean_squared_error(d, v), y.copy()),
                   F.d_mean_squared_error(d, y))
"""),
    md(r"""
二乗するのは、正負の誤差が打ち消し合わないようにするため（和が 0 でも外れています）。
1/2 は微分したときに出る 2 を消して、勾配を $y - d$ にするためで、最小となる点は変わりません。

Squaring stops positive and negative errors from cancelling (their sum is 0 above although both
miss). The 1/2 cancels the 2 from differentiating, leaving the gradient $y - d$; the minimum is
the same.

## 確認テスト：ソフトマックスと交差エントロピー / Softmax and cross-entropy

ソフトマックス $y_k = e^{u_k} / \sum_j e^{u_j}$：①関数の返り値（確率）、②分子 `np.exp(x)`、
③分母 `np.sum(np.exp(x))`（全クラス分の和、だから合計が 1）。大きな $u$ で `exp` が溢れないよう、
zerodl は最大値を引いてから計算します（結果は同じ）。

交差エントロピー $E = -\sum_k d_k \log y_k$：①正解クラスの確率 $y$ の対数にマイナスを付けたもの、
②講座の `1e-7` は $\log 0$ を避けるため（zerodl は dtype の最小正規数で置き換え、ふつうの確率は変えません）。

Softmax $y_k = e^{u_k} / \sum_j e^{u_j}$: (1) the returned probabilities, (2) the numerator
`np.exp(x)`, (3) the denominator `np.sum(np.exp(x))`, a sum over all classes, hence rows sum to
1. zerodl subtracts the row maximum first so `exp` cannot overflow; the result is unchanged.
Cross-entropy $E = -\sum_k d_k \log y_k$ is minus the log-probability of the right class; the
course's `1e-7` guards $\log 0$ (zerodl uses the dtype's smallest normal number instead).
"""),
    code(r"""
u = np.array([2.0, 1.0, 0.1])
y = F.softmax(u)
print("softmax:", y, "sum:", y.sum(), " numerator/denominator:", np.exp(u) / np.exp(u).sum())
big = np.array([1000.0, 1001.0])
with np.errstate(over="ignore", invalid="ignore"):
    print("naive exp/sum at 1000:", np.exp(big) / np.exp(big).sum(), " zerodl:", F.softmax(big))
d = np.array([0, 1, 0])
print("cross-entropy:", F.cross_entropy_error(d, y), "= -log y[1] =", -np.log(y[1]))
# Together, the gradient with respect to u is simply y - d (per sample):
numeric = F.numerical_gradient(lambda v: F.cross_entropy_error(d, F.softmax(v)), u.copy())
print("dE/du numeric:", numeric, " y - d:", F.d_softmax_with_loss(d, y))
assert np.allclose(numeric, y - d, atol=1e-7)
"""),
]

# --------------------------------------------------------------------------------------------
# 4. Gradient descent
# --------------------------------------------------------------------------------------------

NB4 = header("4. 勾配降下法", "4. Gradient descent", r"""
勾配降下法は $w^{(t+1)} = w^{(t)} - \varepsilon \nabla E$：誤差 $E$ の勾配の逆向きに、学習率
$\varepsilon$ だけ重みを動かします。講座の回帰の例 $y = 3x_0 + 2x_1$ を 2-10-1 のネットワークで
オンライン学習させ、バッチサイズと学習率を変えて比べます。

Gradient descent: $w^{(t+1)} = w^{(t)} - \varepsilon \nabla E$, a step of size $\varepsilon$
(the learning rate) against the gradient of the error. We fit the course's regression
$y = 3x_0 + 2x_1$ with a 2-10-1 network online, then vary batch size and learning rate.
""") + [
    code(r"""
from zerodl.optimizers import SGD, OPTIMIZERS

rng = np.random.default_rng(0)
x = rng.random((1000, 2)).astype(np.float32)
d = (3 * x[:, 0] + 2 * x[:, 1]).reshape(-1, 1)
STEPS = 300 if FAST else 1000
"""),
    md(r"""
## オンライン学習（バッチサイズ 1）/ Online learning (batch size 1)

1 サンプルごとに重みを更新します。学習率 0.07。`eval_every=10` で 10 ステップごとに全データでの誤差を記録します。

One update per sample, learning rate 0.07; `eval_every=10` records the loss on all the data every 10 steps.
"""),
    code(r"""
model = zerodl.mlp([2, 10, 1], activation="relu", output="identity", init="he", seed=0)
hist = model.fit(x, d, steps=STEPS, batch_size=1, optimizer=SGD(lr=0.07), eval_every=10, verbose=0)
plt.plot(hist.steps["step"], hist.steps["loss"])
plt.yscale("log"); plt.xlabel("step"); plt.ylabel("loss (1/2 MSE)"); plt.title("online learning")
plt.show()
print("prediction at x = (0.5, 0.5):", model.predict([[0.5, 0.5]]), " target 2.5")
print(f"loss {hist.steps['loss'][0]:.4f} -> {hist.steps['loss'][-1]:.4f}")
assert hist.steps["loss"][-1] < 0.1 * hist.steps["loss"][0]
"""),
    md(r"""
## 確認テスト：勾配降下法の式 / Check question: the gradient descent formula

$w^{(t+1)} = w^{(t)} - \varepsilon \nabla E$ は `network[key] -= learning_rate * grad[key]`。
zerodl の `SGD(lr).update(params, grads)` が行うのはこの 1 行です。

$w^{(t+1)} = w^{(t)} - \varepsilon \nabla E$ is `network[key] -= learning_rate * grad[key]`,
exactly what `SGD(lr).update(params, grads)` does.
"""),
    code(r"""
grads = model.gradient(x[:1], d[:1])
before = {k: v.copy() for k, v in model.params.items()}
SGD(lr=0.07).update(model.params, grads)
for key in before:
    assert np.allclose(model.params[key], before[key] - np.float32(0.07) * grads[key])
print("one step: w <- w - 0.07 * grad, checked for", list(before))
"""),
    md(r"""
## 確認テスト：オンライン・ミニバッチ・バッチ学習 / Online, mini-batch and full-batch learning

オンライン学習は 1 サンプルごとに更新（データが届くたびに学習できる）、バッチ学習は全データで
1 回更新、ミニバッチはその間。ミニバッチの利点：行列計算で複数サンプルをまとめて処理できる
（SIMD や GPU の並列計算を活かせる）うえ、勾配のばらつきが減ります。同じエポック数で比べると、
更新回数と誤差の下がり方が違います。

Online learning updates after every sample (it can learn as data arrives); full-batch once per
pass over all data; mini-batch in between. A mini-batch is processed as one matrix product
(parallel hardware does the samples together) and averages out gradient noise. With the same
number of epochs, the number of updates and the loss differ:
"""),
    code(r"""
epochs = 2 if FAST else 10
fig, ax = plt.subplots(figsize=(6, 3.5))
for batch_size, name in [(1, "online (1)"), (20, "mini-batch (20)"), (None, "full batch")]:
    m = zerodl.mlp([2, 10, 1], output="identity", init="he", seed=0)
    h = m.fit(x, d, epochs=epochs, batch_size=batch_size, optimizer=SGD(lr=0.07), verbose=0)
    updates = epochs * (1 if batch_size is None else -(-len(x) // batch_size))
    ax.plot(h.epoch, h.history["loss"], marker="o", label=f"{name}: {updates} updates")
    print(f"{name:<16} {updates:>6} updates, final loss {m.loss(x, d):.5f}")
ax.set_yscale("log"); ax.set_xlabel("epoch"); ax.set_ylabel("training loss"); ax.legend()
plt.show()
"""),
    md(r"""
## 確認テスト：学習率 / The learning rate

小さすぎると誤差がなかなか下がらず、大きすぎると誤差が振動して収束しない（さらに大きいと発散する）。

Too small: the loss falls slowly. Too large: it jumps around instead of settling (larger still,
it diverges).
"""),
    code(r"""
finals = {}
for lr in (0.002, 0.07, 1.0):
    m = zerodl.mlp([2, 10, 1], output="identity", init="he", seed=0)
    with np.errstate(all="ignore"):       # a diverging run may overflow; that is the point
        h = m.fit(x, d, steps=STEPS, batch_size=1, optimizer=SGD(lr=lr), eval_every=10, verbose=0)
    plt.plot(h.steps["step"], h.steps["loss"], label=f"lr = {lr}")
    finals[lr] = h.steps["loss"][-1]
plt.yscale("log"); plt.xlabel("step"); plt.ylabel("loss"); plt.legend(); plt.show()
print({lr: round(v, 5) for lr, v in finals.items()})
assert finals[0.07] < finals[0.002] and finals[0.07] < finals[1.0]
"""),
    md(r"""
## 最適化手法 / Optimizers

zerodl に登録されている最適化手法（`OPTIMIZERS`）を同じ条件で比べます。登録された名前だけを使うので、
手法が追加されると自動でこの比較に加わります。

We compare every optimizer registered in `OPTIMIZERS` under the same conditions; as new ones are
registered, they join the comparison automatically.
"""),
    code(r"""
names = [n for n in ("sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam") if n in OPTIMIZERS]
LR = {"sgd": 0.07, "momentum": 0.02, "adagrad": 0.1, "rmsprop": 0.005, "adam": 0.005}
for name in names:
    opt = OPTIMIZERS.get(name)(lr=LR[name]) if name in LR else OPTIMIZERS.get(name)()
    m = zerodl.mlp([2, 10, 1], output="identity", init="he", seed=0)
    h = m.fit(x, d, steps=STEPS, batch_size=10, optimizer=opt, eval_every=10, verbose=0)
    label = f"{type(opt).__name__} (lr={opt.lr:g})"
    plt.plot(h.steps["step"], h.steps["loss"], label=label)
    print(f"{label:<24} final loss {h.steps['loss'][-1]:.5f}")
plt.yscale("log"); plt.xlabel("step"); plt.ylabel("loss"); plt.legend(); plt.show()
"""),
]

# --------------------------------------------------------------------------------------------
# 5. Backpropagation
# --------------------------------------------------------------------------------------------

NB5 = header("5. 誤差逆伝播法", "5. Backpropagation", r"""
誤差逆伝播法は、出力側から順に $\delta = \partial E / \partial u$ を求め、連鎖律で前の層へ伝えます。
順伝播で計算した値（$z$ や $u$）を **再利用** するので、数値微分よりずっと速く、すべての勾配が
一度に求まります。講座の 2-3-2 のセルで確かめます。

Backpropagation computes $\delta = \partial E / \partial u$ from the output back, passing it to
earlier layers by the chain rule. It **reuses** values stored in the forward pass ($z$, $u$),
so all gradients come in one sweep, far cheaper than numerical differentiation.
""") + [
    md(r"""
## 2-3-2 のセル / The 2-3-2 cell

入力 $x = (1, 5)$、正解 $d = (0, 1)$、中間層 ReLU、出力層ソフトマックス＋交差エントロピー。
"""),
    code(r"""
def course_232():
    net = zerodl.Sequential([zerodl.Dense(2, 3, dtype=np.float64), zerodl.ReLU(),
                             zerodl.Dense(3, 2, dtype=np.float64)], output="softmax")
    net.params["W1"][:] = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]
    net.params["b1"][:] = [0.1, 0.2, 0.3]
    net.params["W2"][:] = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]
    net.params["b2"][:] = [0.1, 0.2]
    return net

net = course_232()
x, d = np.array([[1.0, 5.0]]), np.array([[0.0, 1.0]])
values = net.trace(x, d)
"""),
    md(r"""
同じ値を NumPy で手計算します。$\delta_2 = y - d$（ソフトマックスと交差エントロピーの組）、
$\partial E/\partial W_2 = z_1^\top \delta_2$、$\delta_1 = \delta_2 W_2^\top \odot f'(u_1)$、
$\partial E/\partial W_1 = x^\top \delta_1$。

The same by hand: $\delta_2 = y - d$ (softmax with cross-entropy),
$\partial E/\partial W_2 = z_1^\top \delta_2$, $\delta_1 = \delta_2 W_2^\top \odot f'(u_1)$,
$\partial E/\partial W_1 = x^\top \delta_1$.
"""),
    code(r"""
W1, b1, W2, b2 = (values[k] for k in ("W1", "b1", "W2", "b2"))
u1 = x @ W1 + b1;  z1 = F.relu(u1)              # forward: keep u1 and z1
u2 = z1 @ W2 + b2; y = F.softmax(u2)
delta2 = F.d_softmax_with_loss(d, y)            # (y - d) / N
grad = {"W2": z1.T @ delta2, "b2": delta2.sum(axis=0)}     # reuses z1 from the forward pass
delta1 = (delta2 @ W2.T) * F.d_relu(u1)         # reuses delta2 and u1
grad["W1"], grad["b1"] = x.T @ delta1, delta1.sum(axis=0)   # reuses x
for key in grad:
    print(key, grad[key].round(4).tolist())
    assert np.allclose(grad[key], values["grad"][key])
"""),
    md(r"""
**再利用している値 / What is reused.** $\partial E/\partial W_2$ は順伝播の $z_1$ を、$\delta_1$ は
$\delta_2$ と $u_1$（ReLU ではその符号）を、$\partial E/\partial W_1$ は入力 $x$ を使います。
zerodl の層は `forward` でこれらを保存し、`backward` で使います。

$\partial E/\partial W_2$ uses the forward pass's $z_1$; $\delta_1$ reuses $\delta_2$ and $u_1$
(for ReLU, its sign); $\partial E/\partial W_1$ uses the input $x$. zerodl's layers store these
in `forward` and read them in `backward`:
"""),
    code(r"""
dense1, relu, dense2 = net.layers
print("Dense 1 stored its input x:       ", dense1.x)
print("ReLU stored its output z1 = max(u1, 0); its sign is u1's:", relu.y > 0)
print("Dense 2 stored its input z1:      ", dense2.x)
"""),
    md(r"""
学習率 0.01 で 1 回更新します（講座のセルと同じ）。 / One update with learning rate 0.01, as in the course.
"""),
    code(r"""
from zerodl.optimizers import SGD
SGD(lr=0.01).update(net.params, net.gradient(x, d))
for key, value in net.params.items():
    print(key, value.round(5).tolist())
print("loss before", round(values["loss"], 6), "after", round(net.loss(x, d), 6))
assert net.loss(x, d) < values["loss"]
"""),
    md(r"""
## 勾配チェック / Gradient check

数値微分 $(E(w + h) - E(w - h)) / 2h$ と比べます。`zerodl.gradient_check` は相対誤差の最大値
（1e-7 より小さければ一致）、`F.numerical_gradient` は任意の配列の数値微分です。

Against central differences $(E(w + h) - E(w - h)) / 2h$: `zerodl.gradient_check` gives the
largest relative error (below 1e-7 means agreement); `F.numerical_gradient` differentiates
with respect to any array.
"""),
    code(r"""
net = course_232()
print("max relative error:", zerodl.gradient_check(net, x, d))
numeric_W1 = F.numerical_gradient(lambda _: net.loss(x, d), net.params["W1"])
print("numerical dE/dW1:\n", numeric_W1)
assert np.allclose(numeric_W1, values["grad"]["W1"], atol=1e-8)
"""),
    md(r"""
## 導関数を出力に適用すると / A derivative applied to the output

シグモイドの 2-3-2 ネットワークで、$\delta_1$ に (a) 正しい `d_sigmoid(u1)`、(b) 講座の一部にある
`d_sigmoid(z1)`、(c) シグモイドのネットワークでの `d_relu(z1)` を使い、数値微分と比べます。
(b)(c) は勾配が数値微分と合いません。

In a sigmoid 2-3-2 network we form $\delta_1$ with (a) the correct `d_sigmoid(u1)`, (b) the
`d_sigmoid(z1)` found in parts of the course, (c) `d_relu(z1)` in a sigmoid network, and
compare with numerical differentiation: (b) and (c) disagree.
"""),
    code(r"""
rng = np.random.default_rng(0)
W1, b1 = rng.standard_normal((2, 3)), rng.standard_normal(3)
W2, b2 = rng.standard_normal((3, 2)), rng.standard_normal(2)
xs, ds = rng.standard_normal((4, 2)), np.eye(2)[[0, 1, 1, 0]]

def loss_of(W1_):
    return F.cross_entropy_error(ds, F.softmax(F.sigmoid(xs @ W1_ + b1) @ W2 + b2))

u1 = xs @ W1 + b1; z1 = F.sigmoid(u1); y = F.softmax(z1 @ W2 + b2)
delta2 = F.d_softmax_with_loss(ds, y)
numeric = F.numerical_gradient(loss_of, W1.copy())
for name, deriv in [("d_sigmoid(u1) (correct)", F.d_sigmoid(u1)),
                    ("d_sigmoid(z1) (course)", F.d_sigmoid(z1)),
                    ("d_relu(z1) in a sigmoid net", F.d_relu(z1))]:
    dW1 = xs.T @ ((delta2 @ W2.T) * deriv)
    err = np.linalg.norm(dW1 - numeric) / np.linalg.norm(dW1 + numeric)
    print(f"{name:<28} relative error {err:.2e}")
"""),
    md(r"""
## 確認テスト：連鎖律 / Check question: the chain rule

$z = t^2,\ t = x + y$ のとき $\dfrac{dz}{dx} = \dfrac{dz}{dt}\dfrac{dt}{dx} = 2t \cdot 1 = 2(x + y)$。

For $z = t^2,\ t = x + y$: $\dfrac{dz}{dx} = \dfrac{dz}{dt}\dfrac{dt}{dx} = 2t \cdot 1 = 2(x + y)$.
"""),
    code(r"""
x0, y0 = 1.5, -0.25
numeric = F.numerical_gradient(lambda v: (v[0] + y0) ** 2, np.array([x0]))[0]
print("numeric dz/dx:", numeric, " 2(x + y):", 2 * (x0 + y0))
assert np.isclose(numeric, 2 * (x0 + y0))
"""),
    md(r"""
## 確認テスト：勾配消失 / Check question: vanishing gradients

シグモイドの導関数の最大値は $u = 0$ での 0.25。層を通るたびに $\delta$ にこれ以下の値が掛かるので、
深いネットワークでは入力側の勾配が小さく（消失）なります。ReLU（導関数 1）と He の初期値ではそうなりません。

The sigmoid's derivative peaks at 0.25 (at $u = 0$): every layer multiplies $\delta$ by at most
that, so the gradient shrinks towards the input of a deep sigmoid network. ReLU (derivative 1)
with He initialisation keeps it.
"""),
    code(r"""
print("max of d_sigmoid:", F.d_sigmoid(np.linspace(-5, 5, 1001)).max(), " 0.25 ** 5 =", 0.25 ** 5)
rng = np.random.default_rng(0)
xs, ds = rng.standard_normal((32, 20)), rng.integers(0, 2, 32)
for act, init in [("sigmoid", "xavier"), ("relu", "he")]:
    net = zerodl.mlp([20] + [20] * 7 + [2], activation=act, init=init, seed=0, dtype=np.float64)
    g = net.gradient(xs, ds)
    norms = [np.linalg.norm(g[f"W{i}"]) for i in range(1, 9)]
    print(f"{act:<8} |dE/dW| from input to output layer:", np.array(norms).round(6))
    plt.plot(range(1, 9), norms, marker="o", label=f"{act} ({init})")
plt.yscale("log"); plt.xlabel("layer (1 = next to the input)"); plt.ylabel("|dE/dW|")
plt.legend(); plt.show()
"""),
    md(r"""
## 確認テスト：逆伝播の式とコード / The backward formulas in code

$\dfrac{\partial E}{\partial y}\dfrac{\partial y}{\partial u}$ は `delta2 = functions.d_mean_squared_error(d, y)`
（恒等写像の出力なら $\partial y/\partial u = 1$）、
$\dfrac{\partial E}{\partial y}\dfrac{\partial y}{\partial u}\dfrac{\partial u}{\partial w^{(2)}_{ji}}$ は
`grad['W2'] = np.dot(z1.T, delta2)`。回帰のネットワークで数値微分と一致します。

$\frac{\partial E}{\partial y}\frac{\partial y}{\partial u}$ is `delta2 = functions.d_mean_squared_error(d, y)`
(the identity output has $\partial y/\partial u = 1$), and adding $\frac{\partial u}{\partial w^{(2)}_{ji}}$
gives `grad['W2'] = np.dot(z1.T, delta2)`; both agree with numerical differentiation.
"""),
    code(r"""
rng = np.random.default_rng(1)
W1, W2 = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
xs, ds = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
z1 = F.relu(xs @ W1)
y = z1 @ W2
delta2 = F.d_mean_squared_error(ds, y)
grad_W2 = np.dot(z1.T, delta2)
numeric = F.numerical_gradient(lambda W: F.mean_squared_error(ds, z1 @ W), W2.copy())
print(grad_W2.round(5), "\n", numeric.round(5))
assert np.allclose(grad_W2, numeric, atol=1e-8)
"""),
]

# --------------------------------------------------------------------------------------------
# 6. MNIST
# --------------------------------------------------------------------------------------------

NB6 = header("6. MNIST", "6. MNIST", r"""
手書き数字 (28×28 画素、0〜9) を 784-40-10 のネットワークで分類します。講座のセルと同じく ReLU、
ソフトマックス、初期値の標準偏差 0.01、学習率 0.1 の SGD、バッチサイズ 100、1000 回の反復。
その後、初期値・中間層のノード数・バッチサイズ・学習率を変えて比べます。

Handwritten digits (28×28 pixels, 0 to 9) with a 784-40-10 network, as in the course's cell:
ReLU, softmax, initial weights with standard deviation 0.01, SGD with learning rate 0.1, batch
100, 1000 iterations. Then we vary the initialisation, hidden size, batch size and learning rate.

データは `$ZERODL_DATA_DIR` のフォルダ、なければ zerodl のキャッシュかダウンロードから読みます。
The data come from the folder in `$ZERODL_DATA_DIR`, else zerodl's cache or a download.
""") + [
    code(r"""
from zerodl.datasets import load_mnist
from zerodl.optimizers import SGD

(x_train, d_train), (x_test, d_test) = load_mnist(normalize=True, one_hot_label=True)
print(x_train.shape, d_train.shape, x_test.shape, d_test.shape, x_train.dtype)
if FAST:   # the test suite: fewer images and iterations, same cells
    x_train, d_train, x_test, d_test = x_train[:2000], d_train[:2000], x_test[:500], d_test[:500]
ITERS = 100 if FAST else 1000

fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))
for ax, img, label in zip(axes, x_train, d_train):
    ax.imshow(img.reshape(28, 28), cmap="gray"); ax.set_title(int(label.argmax())); ax.axis("off")
plt.show()
"""),
    md(r"""
## 講座のセル：784-40-10 / The course's cell

学習曲線（訓練データとテストデータの正解率）を `zerodl.plot_history` で描きます。
Accuracy curves on the training and test data, drawn with `zerodl.plot_history`.
"""),
    code(r"""
model = zerodl.mlp([784, 40, 10], activation="relu", output="softmax", init=0.01, seed=0)
model.summary()
hist = model.fit(x_train, d_train, steps=ITERS, batch_size=100, optimizer=SGD(lr=0.1),
                 validation_data=(x_test, d_test), eval_every=max(1, ITERS // (10 if FAST else 20)), verbose=0, seed=0)
fig = zerodl.plot_history(hist, title="784-40-10, std 0.01, SGD 0.1, batch 100")
display(fig)
result = model.evaluate(x_test, d_test)
print(f"test accuracy {result['accuracy']:.4f} after {ITERS} iterations")
assert result["accuracy"] > (0.5 if FAST else 0.85)
"""),
    md(r"""
1 枚の画像の順伝播・逆伝播を trace で見ます。大きな配列は端と最小・平均・最大に要約されます。

A trace of one image; large arrays are summarised by their corners and min / mean / max.
"""),
    code(r"""
v = model.trace(x_test[:1], d_test[:1], print_fn=None)
model.trace(x_test[:1], d_test[:1], lang="en", threshold=20)
print("predicted", v["y"].argmax(), "label", d_test[0].argmax())
"""),
    md(r"""
講座のこのセルの逆伝播は `d_relu(z1)` と出力 $z_1$ に導関数を適用していますが、ReLU では
$z > 0 \iff u > 0$ なので結果は同じです（シグモイドに替えるときは `u1` を渡すこと。ノート 2, 5 参照）。
コース用のノートブックをそのまま動かすには `zerodl course-kit DIR` を使います（README 参照）。

The course's backward pass in this cell applies `d_relu` to the output $z_1$; for ReLU,
$z > 0 \iff u > 0$, so it gives the same result (pass `u1` if you switch to a sigmoid; see
notebooks 2 and 5). To run the course's own notebooks unchanged, write the shims with
`zerodl course-kit DIR`.

## 試してみよう / Try it

初期値（0.01 / Xavier / He）、中間層のノード数、バッチサイズ、学習率を 1 つずつ変えます。
各条件でテスト正解率の推移を描きます。

One change at a time: initialisation (0.01 / Xavier / He), hidden size, batch size, learning
rate. Each panel shows the test accuracy over the iterations.
"""),
    code(r"""
VAR_ITERS = 40 if FAST else 1000
base = dict(hidden=40, init=0.01, batch=100, lr=0.1)
variations = {
    "init": [0.01, "xavier", "he"],
    "hidden": [20, 40, 100],
    "batch": [10, 100, 1000],
    "lr": [0.01, 0.1, 0.5],
}
finals = {}
fig, axes = plt.subplots(1, 4, figsize=(16, 3.4), sharey=True)
for ax, (name, options) in zip(axes, variations.items()):
    for value in options:
        cfg = {**base, name: value}
        m = zerodl.mlp([784, cfg["hidden"], 10], init=cfg["init"], seed=0)
        h = m.fit(x_train, d_train, steps=VAR_ITERS, batch_size=cfg["batch"],
                  optimizer=SGD(lr=cfg["lr"]), validation_data=(x_test, d_test),
                  eval_every=max(1, VAR_ITERS // (5 if FAST else 10)), verbose=0, seed=0)
        ax.plot(h.steps["step"], h.steps["val_accuracy"], marker="o", ms=3, label=f"{name}={value}")
        finals[(name, value)] = h.steps["val_accuracy"][-1]
    ax.set_title(name); ax.set_xlabel("iteration"); ax.grid(alpha=0.3); ax.legend()
axes[0].set_ylabel("test accuracy")
plt.show()
for (name, value), acc in finals.items():
    print(f"{name:<7}{str(value):>7}: test accuracy {acc:.4f}")
"""),
    md(r"""
読み取れること（反復回数が少ないほど差が大きく出ます）：
- 初期値：標準偏差 0.01 は出力がほぼ 0 から始まり学習の立ち上がりが遅い。Xavier・He は層の大きさに
  合わせた標準偏差で、ReLU には He が向いています。
- 中間層のノード数：多いほど表現力が上がり正解率が上がりやすい（計算量も増える）。
- バッチサイズ：同じ反復回数なら、大きいバッチは 1 回の勾配が正確で、見るデータも多い。
- 学習率：小さすぎると遅く、大きすぎると不安定（最後のパネルで 2 や 5 も試してみよう）。

What to look for (differences are larger with fewer iterations): std 0.01 starts with outputs near
0 and learns slowly at first, while Xavier and He scale the weights to the layer size (He suits
ReLU); more hidden units give more capacity (and more computation); with the same number of
iterations a larger batch gives more accurate gradients and sees more data; a learning rate too
small is slow, too large unstable (try `lr` values such as 2 or 5 in the last panel).
"""),
]

# --------------------------------------------------------------------------------------------
# 7. Looking inside
# --------------------------------------------------------------------------------------------

NB7 = header("7. 中を見る", "7. Looking inside", r"""
損失と正解率の曲線だけでは、ネットワークの中で何が起きているかは分かりません。このノートでは
中を見ます：初期値と活性化関数で中間層の出力の分布がどう変わるか、深いネットワークで勾配が
どう消えるか、MNIST で 1 層目の重みが何を学ぶか、どの数字を取り違えるか、小さなネットワークが
2 次元のデータでどんな境界を引くか。どれも zerodl の関数 1 つで描けます。

Loss and accuracy curves do not show what happens inside a network. Here we look inside: how the
initialisation and the activation shape the hidden layers' outputs, how gradients vanish in a
deep network, what the first layer's weights learn on MNIST, which digits get confused, and what
boundary a small network draws on 2-D data. Each view is one zerodl call.
""") + [
    md(r"""
## 1. 中間層の出力の分布 / Hidden-layer outputs

100 ユニットの中間層が 5 つあるネットワークに、標準正規分布の入力 1000 個を入れ、各層の出力の
ヒストグラムを描きます。初期値（標準偏差 0.01、Xavier $\sqrt{1/n}$、He $\sqrt{2/n}$、$n$ は前の層の
ユニット数）と活性化関数（シグモイド、ReLU）の 6 通りです。まず 1 つを `zerodl.plot_activations` で。

A network with five hidden layers of 100 units, fed 1000 standard-normal inputs; we draw a
histogram of each layer's outputs for six cases: initial weights with standard deviation 0.01,
Xavier $\sqrt{1/n}$ or He $\sqrt{2/n}$ ($n$: units of the previous layer), with a sigmoid or a ReLU.
First one case with `zerodl.plot_activations`.
"""),
    code(r"""
from zerodl.inspection import activation_data

x_random = np.random.default_rng(0).standard_normal((1000, 100)).astype(np.float32)
deep5 = zerodl.mlp([100] * 6 + [10], activation="sigmoid", init=0.01, seed=0)
display(zerodl.plot_activations(deep5, x_random))
"""),
    md(r"""
6 通りを並べます（行：初期値と活性化関数、列：層）。ヒストグラムの値は `activation_data`、
つまりモデル自身の `layer_outputs` です。

All six side by side (rows: initialisation and activation, columns: layers). The histograms'
values come from `activation_data`, that is the model's own `layer_outputs`.
"""),
    code(r"""
cases = [(act, init) for act in ("sigmoid", "relu") for init in (0.01, "xavier", "he")]
fig, axes = plt.subplots(len(cases), 5, figsize=(14, 12), sharey="row")
for row, (act, init) in zip(axes, cases):
    model = zerodl.mlp([100] * 6 + [10], activation=act, init=init, seed=0)
    for ax, (name, values) in zip(row, activation_data(model, x_random).items()):
        ax.hist(values, bins=30, range=(0, 1) if act == "sigmoid" else None,
                weights=np.full(values.size, 1 / values.size))
        ax.set_title(f"{act}, init {init}: {name.split(' (')[0]}", fontsize=9)
        ax.locator_params(axis="x", nbins=4)
        ax.grid(alpha=0.3)
    row[0].set_ylabel("share of outputs")
for ax in axes[-1]:
    ax.set_xlabel("output value")
fig.tight_layout()
plt.show()
"""),
    md(r"""
読み取れること / What to look for:
- シグモイド + 0.01：どの層の出力も 0.5 付近に集まります。どのユニットも同じ値を出すので、
  ユニットが多くても表現力がありません。Xavier では深い層まで広がりが残ります。
- ReLU + 0.01：層を重ねるごとに出力が 0 に縮みます（ヒストグラムの横軸の目盛りに注目）。
  He では深い層でも同じくらいの広がりが保たれます。ReLU には He、シグモイドや tanh には Xavier。

- Sigmoid with std 0.01: every layer's outputs crowd around 0.5; all units say the same thing, so
  many units add no expressiveness. With Xavier the spread survives to the deep layers.
- ReLU with std 0.01: the outputs shrink towards 0 layer after layer (look at the x-axis scales).
  He keeps a similar spread in every layer. He suits ReLU; Xavier suits sigmoid and tanh.

## 2. 勾配消失 / Vanishing gradients

中間層 10 層（各 100 ユニット）のネットワークを MNIST で少し学習させ、`zerodl.callbacks.LayerStats`
で層ごとの勾配のノルム $\|\partial E / \partial W\|$ を記録します。シグモイド + Xavier と ReLU + He を比べます。

A network with ten hidden layers of 100 units, trained a little on MNIST;
`zerodl.callbacks.LayerStats` records each layer's gradient norm $\|\partial E / \partial W\|$.
Sigmoid with Xavier against ReLU with He.
"""),
    code(r"""
from zerodl.callbacks import LayerStats
from zerodl.datasets import load_mnist
from zerodl.optimizers import SGD

(x_train, d_train), (x_test, d_test) = load_mnist()
if FAST:   # the test suite: fewer images and iterations, same cells
    x_train, d_train, x_test, d_test = x_train[:5000], d_train[:5000], x_test[:1000], d_test[:1000]

deep_stats = {}
for act, init in (("sigmoid", "xavier"), ("relu", "he")):
    model = zerodl.mlp([784] + [100] * 10 + [10], activation=act, init=init, seed=0)
    stats = LayerStats(every=10)
    model.fit(x_train, d_train, steps=100, batch_size=100, optimizer=SGD(lr=0.1), verbose=0,
              seed=0, callbacks=[stats])
    deep_stats[act] = stats

fig, ax = plt.subplots(figsize=(7, 3.8))
for act, stats in deep_stats.items():
    keys = list(stats.history)
    first = [stats.history[k]["grad_norm"][0] for k in keys]
    ax.semilogy(range(1, len(keys) + 1), first, marker="o",
                label=f"{act} + {'Xavier' if act == 'sigmoid' else 'He'}, step {stats.steps[0]}")
ax.set_xticks(range(1, len(keys) + 1), keys)
ax.set_xlabel("layer (input side -> output side)"); ax.set_ylabel("gradient norm ||dE/dW||")
ax.set_title("Gradient norm per layer, 10 hidden layers"); ax.grid(alpha=0.3, which="both"); ax.legend()
plt.show()
sig = deep_stats["sigmoid"].history
print(f"sigmoid: ||dE/dW1|| / ||dE/dW11|| = {sig['W1']['grad_norm'][0] / sig['W11']['grad_norm'][0]:.2e}")
"""),
    md(r"""
シグモイドでは、入力側の層の勾配が出力側より何桁も小さくなります。逆伝播で層を 1 つ戻るたびに
$f'(u) \le 0.25$ が掛かるからです。入力側の層はほとんど学習できません。ReLU + He では $f'(u)$ が
0 か 1 なので、勾配の大きさが層を通じてほぼ保たれます。`plot_layer_stats` は記録したすべての値
（出力の平均と標準偏差、死んだユニット・飽和した出力の割合、勾配のノルム、更新の大きさの比
$\|\Delta W\| / \|W\|$）を学習の進みに沿って描きます。

With the sigmoid, the gradients of the layers near the input are orders of magnitude smaller than
near the output: each layer backpropagation goes through multiplies by $f'(u) \le 0.25$, so the
first layers barely learn. With ReLU and He, $f'(u)$ is 0 or 1 and the gradient keeps its size
through the layers. `plot_layer_stats` draws everything recorded (the outputs' mean and standard
deviation, the share of dead units or saturated outputs, the gradient norm, the update ratio
$\|\Delta W\| / \|W\|$) along training.
"""),
    code(r"""
display(zerodl.plot_layer_stats(deep_stats["sigmoid"]))
"""),
    md(r"""
## 3. 1 層目の重み / The first layer's weights

講座の MNIST のセル（784-40-10、ReLU、標準偏差 0.01、SGD 学習率 0.1、バッチ 100、1000 回）で学習し、
$W_1$ の各列（1 つのユニットに入る 784 個の重み）を 28×28 の画像として描きます。赤い画素はその
ユニットの総入力を上げ、青い画素は下げます。

The course's MNIST cell (784-40-10, ReLU, std 0.01, SGD with learning rate 0.1, batch 100, 1000
iterations); then each column of $W_1$ (the 784 weights into one unit) as a 28×28 image. Red
pixels raise that unit's total input, blue ones lower it.
"""),
    code(r"""
ITERS = 300 if FAST else 1000
course = zerodl.mlp([784, 40, 10], activation="relu", init=0.01, seed=0)
course_stats = LayerStats(every=10)
course.fit(x_train, d_train, steps=ITERS, batch_size=100, optimizer=SGD(lr=0.1), verbose=0,
           seed=0, callbacks=[course_stats])
print(f"test accuracy {course.evaluate(x_test, d_test)['accuracy']:.4f} after {ITERS} iterations")
display(zerodl.plot_weights(course, layer=1))
"""),
    md(r"""
多くのユニットが数字の一部（縦の線、丸、斜めの線）に反応する形になり、赤と青の組で「ここに線が
あって、そこにはない」を調べています。ほとんど灰色のままのユニットは学習にあまり使われていません。
学習中の層ごとの統計も見ておきます。

Many units look like parts of digits (strokes, loops, diagonals); red and blue pairs test "a line
here and none there". Units that stay almost grey are hardly used. The per-layer statistics of
this training:
"""),
    code(r"""
display(zerodl.plot_layer_stats(course_stats))
"""),
    md(r"""
## 4. 取り違え / Confusions and mistakes

混同行列：行が正解のクラス、列が予測したクラス。対角線が正解で、それ以外のマスが取り違えの数です。
`zerodl.confusion_matrix(d_true, d_pred)` は数を配列で返します。

The confusion matrix: rows are the true classes, columns the predictions; the diagonal holds the
correct answers and every other cell counts one kind of confusion.
`zerodl.confusion_matrix(d_true, d_pred)` returns the counts as an array.
"""),
    code(r"""
counts = zerodl.confusion_matrix(d_test, course.predict(x_test))
off = counts - np.diag(np.diag(counts))
i, j = np.unravel_index(off.argmax(), off.shape)
print(f"most frequent confusion: true {i} predicted as {j}, {off[i, j]} times")
display(zerodl.plot_confusion(course, x_test, d_test))
"""),
    md(r"""
最悪の間違い：正解のクラスに付けた確率が最も低い（自信をもって間違えた）テスト画像です。
人が見ても紛らわしいものと、ネットワークの弱点を示すものがあります。

The worst mistakes: the test images whose true class got the lowest probability (wrong and
confident). Some are ambiguous even to a person; others show the network's weak spots.
"""),
    code(r"""
display(zerodl.plot_mistakes(course, x_test, d_test, n=15))
"""),
    md(r"""
## 5. 決定境界 / Decision boundaries

2 次元のデータ（`zerodl.make_toy`）で、中間層の大きさと数を変えて境界の形を見ます：2-2-2、
2-8-2、2-8-8-2 を xor と spiral で、Adam で学習。背景は各点でのクラス 1 の確率、黒い線が
確率 0.5 の境界です。

On 2-D data (`zerodl.make_toy`) we vary the hidden layers and look at the boundary: 2-2-2, 2-8-2
and 2-8-8-2 on xor and spiral, trained with Adam. The background is the probability of class 1
at each point, the black line the 0.5 boundary.
"""),
    code(r"""
from zerodl.inspection import decision_field
from zerodl.optimizers import Adam

EPOCHS = 150 if FAST else 400
shapes = ([2, 2, 2], [2, 8, 2], [2, 8, 8, 2])
fig, axes = plt.subplots(2, 3, figsize=(14, 8.4), layout="constrained")
for row, name in zip(axes, ("xor", "spiral")):
    x, d = zerodl.make_toy(name, 400, noise=0.05, seed=0)
    for ax, sizes in zip(row, shapes):
        model = zerodl.mlp(sizes, activation="relu", init="he", seed=1)
        model.fit(x, d, epochs=EPOCHS, batch_size=50, optimizer=Adam(lr=0.01), verbose=0, seed=0)
        g0, g1, field = decision_field(model, x)
        image = ax.imshow(field, origin="lower", extent=(g0[0], g0[-1], g1[0], g1[-1]),
                          cmap="RdBu_r", vmin=0, vmax=1, alpha=0.6, aspect="auto")
        ax.contour(g0, g1, field, levels=[0.5], colors="black")
        ax.scatter(*x.T, c=d, cmap="RdBu_r", s=8, edgecolors="black", linewidths=0.3)
        accuracy = model.evaluate(x, d)["accuracy"]
        ax.set_title(f"{name}, {'-'.join(map(str, sizes))}: accuracy {accuracy:.2f}")
        ax.set_xlabel("x0"); ax.set_ylabel("x1")
fig.colorbar(image, ax=axes, shrink=0.6, label="probability of class 1 (red points: class 1)")
plt.show()
"""),
    md(r"""
2-2-2 は ReLU 2 つ分の折れ線しか引けず、xor もうまく分けられないことがあります。2-8-2 は xor を
分けますが、spiral の渦には足りません。2-8-8-2 は 2 層で折れ目を組み合わせ、十分に学習すれば
渦に沿った境界を引きます（テスト用の短い学習では途中の形です）。2-32-32-2 なら spiral をほぼ
完全に分けます：

2-2-2 can only draw two ReLU creases and may fail even on xor; 2-8-2 separates xor but not the
spiral's arms; 2-8-8-2 combines creases over two layers and, trained long enough, follows the
arms (the test suite's short run shows a halfway shape). A 2-32-32-2 network separates the
spiral almost perfectly:
"""),
    code(r"""
x, d = zerodl.make_toy("spiral", 400, seed=0)
big = zerodl.mlp([2, 32, 32, 2], activation="relu", init="he", seed=0)
big.fit(x, d, epochs=EPOCHS, batch_size=50, optimizer=Adam(lr=0.01), verbose=0, seed=0)
display(zerodl.plot_decision_boundary(big, x, d))
assert big.evaluate(x, d)["accuracy"] >= 0.9
"""),
    md(r"""
## 試してみよう / Try it

- 1 節で `init` に `1.0` を入れると、シグモイドの出力が 0 と 1 に張り付きます（飽和）。
- 2 節で `("tanh", "xavier")` を加えると、シグモイドより勾配がよく伝わります。
- 5 節で `make_toy` の `noise` を 0.2 にし、大きなネットワークが雑音まで覚える様子を見ます。
- コマンドラインでも同じ図が描けます：`zerodl show boundary --dataset spiral --layers 2-8-8-2`、
  `zerodl show weights`、`zerodl show layers --dataset moons`。

- In section 1, try `init=1.0`: the sigmoid's outputs stick to 0 and 1 (saturation).
- In section 2, add `("tanh", "xavier")`: gradients pass better than with the sigmoid.
- In section 5, set `make_toy`'s `noise` to 0.2 and watch a large network learn the noise too.
- The same figures from the command line: `zerodl show boundary --dataset spiral --layers
  2-8-8-2`, `zerodl show weights`, `zerodl show layers --dataset moons`.
"""),
]

NOTEBOOKS = {
    "01_forward_propagation.ipynb": NB1,
    "02_activation_functions.ipynb": NB2,
    "03_output_layers_and_losses.ipynb": NB3,
    "04_gradient_descent.ipynb": NB4,
    "05_backpropagation.ipynb": NB5,
    "06_mnist.ipynb": NB6,
    "07_looking_inside.ipynb": NB7,
}


def build(directory: Path = HERE) -> list[Path]:
    """Write every notebook into ``directory``; return their paths."""
    paths = []
    for name, cells in NOTEBOOKS.items():
        for i, cell in enumerate(cells):
            cell.id = f"cell-{i:02d}"          # stable ids: rebuilding gives no spurious diff
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}})
        nbformat.validate(nb)
        path = directory / name
        nbformat.write(nb, path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for path in build():
        print("wrote", path)
