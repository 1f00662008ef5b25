"""Write the day-1 tutorial notebooks of docs/tutorials/ (outputs cleared).

    python docs/tutorials/build.py

Each notebook is listed here as a sequence of markdown and code cells, so that the notebooks
can be regenerated and reviewed as plain text. The notebooks read ZERODL_TUTORIAL_FAST=1
(set by tests/test_tutorials.py) to cut iteration counts; everything else runs as a learner
would run it.
"""
from __future__ import annotations

import importlib.util
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

FAST = os.environ.get("ZERODL_TUTORIAL_FAST", "0") not in ("", "0")
np.set_printoptions(precision=4, suppress=True)'''

SETUP_NOTE = "準備：NumPy、matplotlib と zerodl を読み込みます。\n\nSetup: NumPy, matplotlib and zerodl."


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
このノートでは講座の 3 つのセル（単一ユニット、複数ユニット、3-10-5-4 の 3 層ネットワーク）を、
講座と同じ形と値で計算し、zerodl の結果と並べます。

A hidden unit multiplies its inputs $x$ by weights $W$, adds them up with a bias $b$ into the
**total input** $u = xW + b$, and passes it through an activation $f$: the **hidden output**
$z = f(u)$. This notebook runs the course's three cells (one unit, several units, the 3-10-5-4
network) with the course's shapes and values, next to zerodl's results.

講座が `np.random.rand` で重みを引くところは、同じ一様分布 $[0, 1)$ から
`np.random.default_rng(seed)` のジェネレータで引きます。seed を固定したので、何度実行しても同じ値です
（講座はシードなしなので、講座の出力とは乱数の部分だけが違います）。

Where the course draws weights with `np.random.rand`, we draw from the same uniform $[0, 1)$
with a `np.random.default_rng(seed)` generator and a fixed seed, so every run prints the same
numbers (the course's cells are unseeded: only those random values differ from its output).
""") + [
    md(r"""
## 単一ユニット / A single unit

入力 2 個、重み 2 個、バイアス 1 個。$u = 2 \times 0.1 + 3 \times 0.2 + 0.5 = 1.3$、
ReLU を通して $z = 1.3$ です。講座と同じく `print_vec` で表示します。

Two inputs, two weights, one bias: $u = 2 \times 0.1 + 3 \times 0.2 + 0.5 = 1.3$, and ReLU
gives $z = 1.3$. Printed with `print_vec` as in the course.
"""),
    code(r"""
def print_vec(text, vec):
    print("*** " + text + " ***")
    print(vec)
    print("")

W = np.array([[0.1], [0.2]])      # 重み / weights, shape (2, 1)
b = 0.5                           # バイアス / bias
x = np.array([2, 3])              # 入力 / input
u = np.dot(x, W) + b              # 総入力 / total input
z = F.relu(u)                     # 中間層出力 / hidden output
print_vec("重み", W)
print_vec("バイアス", b)
print_vec("入力", x)
print_vec("総入力", u)
print_vec("中間層出力", z)
assert np.allclose(u, [1.3]) and np.allclose(z, [1.3])
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

講座の試してみようと同じく、重みを `zeros`, `ones`, `rand`, `randint(5)`（形 (2, 1)）に、
バイアスを `rand`, `rand * 10 - 5`（$[-5, 5)$ の一様乱数）に替えます。乱数は seed 0 のジェネレータから。

As in the course's try-its: weights as `zeros`, `ones`, `rand`, `randint(5)` (shape (2, 1)),
the bias as `rand` and `rand * 10 - 5` (uniform in $[-5, 5)$); random numbers from a seed-0 generator.
"""),
    code(r"""
rng = np.random.default_rng(0)
weights = {
    "zeros": np.zeros((2, 1)),
    "ones": np.ones((2, 1)),
    "rand": rng.random((2, 1)),
    "randint(5)": rng.integers(0, 5, size=(2, 1)),
}
for name, w in weights.items():
    print(f"W = {name:<12} {w.ravel()} -> u = {np.dot(x, w) + b}")
for name, bias in {"rand": rng.random(), "rand * 10 - 5": rng.random() * 10 - 5}.items():
    print(f"b = {name:<12} {bias:.4f} -> u = {np.dot(x, W) + bias}")
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

入力 4 個、中間層のユニット 3 個。講座はユニットごとの重みを行に並べた 3×4 の行列 $W$ を使い、
**$W$ を先に** `u = np.dot(W, x) + b` と書きます。活性化関数はシグモイドです。

Four inputs, three units. The course stores one row of weights per unit, a 3×4 matrix $W$,
and writes **$W$ first**: `u = np.dot(W, x) + b`. The activation is the sigmoid.
"""),
    code(r"""
W = np.array([[0.1, 0.2, 0.3, 0.0],
              [0.2, 0.3, 0.4, 0.5],
              [0.3, 0.4, 0.5, 1.0]])    # shape (3, 4)
b = np.array([0.1, 0.2, 0.3])
x = np.array([1.0, 5.0, 2.0, -1.0])
u = np.dot(W, x) + b
z = F.sigmoid(u)
print_vec("重み", W)
print_vec("バイアス", b)
print_vec("入力", x)
print_vec("総入力", u)
print_vec("中間層出力", z)
assert np.allclose(u, [1.8, 2.2, 2.6])
assert np.allclose(z, [0.85814894, 0.90024951, 0.93086158])
"""),
    md(r"""
zerodl の `Dense` は重みを (入力数, ユニット数) = (4, 3) で持ち、$u = xW + b$ と **$x$ を先に** 書きます。
講座の $W$ の転置 $W^\top$ を入れれば、同じ総入力になります。

zerodl's `Dense` keeps its weights as (inputs, units) = (4, 3) and computes $u = xW + b$,
**$x$ first**: with the transpose $W^\top$ of the course's matrix the total input is the same.
"""),
    code(r"""
layer = zerodl.Dense(4, 3, dtype=np.float64)
layer.W[:] = W.T
layer.b[:] = b
print(layer.forward(x.reshape(1, 4)), "=", u)
assert np.allclose(layer.forward(x.reshape(1, 4)), u)
"""),
    md(r"""
試してみよう：重みを形 (4, 3) の `zeros`, `ones`, `rand`, `randint(5)` に替えます。
形が (4, 3) なので、このときは `np.dot(x, W)` の順に掛けます。

Try it: weights of shape (4, 3) as `zeros`, `ones`, `rand`, `randint(5)`; with that shape
the product is `np.dot(x, W)`.
"""),
    code(r"""
rng = np.random.default_rng(0)
for name, w in {"zeros": np.zeros((4, 3)), "ones": np.ones((4, 3)),
                "rand": rng.random((4, 3)), "randint(5)": rng.integers(0, 5, size=(4, 3))}.items():
    uu = np.dot(x, w) + b
    print(f"{name:<11} u = {uu}  z = {F.sigmoid(uu)}")
"""),
    md(r"""
## 3層ネットワーク 3-10-5-4 / A 3-layer network, 3-10-5-4

講座のセル：入力 $x = (1, 2, 4)$、中間層 10 と 5 ユニット（ReLU）、出力 4 ユニット（恒等写像）。
重みとバイアスはすべて一様乱数 $[0, 1)$（講座は `np.random.rand`、ここでは seed 1 のジェネレータ）。

The course's cell: input $x = (1, 2, 4)$, hidden layers of 10 and 5 units (ReLU), 4 outputs
(identity). Every weight and bias is uniform in $[0, 1)$ (the course: `np.random.rand`; here a
seed-1 generator).
"""),
    code(r"""
def init_network(rng):
    return {
        "W1": rng.random((3, 10)), "W2": rng.random((10, 5)), "W3": rng.random((5, 4)),
        "b1": rng.random(10), "b2": rng.random(5), "b3": rng.random(4),
    }

def forward(network, x):
    u1 = np.dot(x, network["W1"]) + network["b1"]
    z1 = F.relu(u1)
    u2 = np.dot(z1, network["W2"]) + network["b2"]
    z2 = F.relu(u2)
    u3 = np.dot(z2, network["W3"]) + network["b3"]
    y = F.identity(u3)
    return y, z1, z2, u1, u2

network = init_network(np.random.default_rng(1))
x = np.array([1.0, 2.0, 4.0])
y, z1, z2, u1, u2 = forward(network, x)
print_vec("総入力1", u1)
print_vec("中間層出力1", z1)
print_vec("中間層出力2", z2)
print_vec("総入力2", u2)
print_vec("出力", y)
print_vec("出力合計", np.sum(y))
"""),
    md(r"""
同じ重みを zerodl のネットワークに入れて `trace(model, x)` で表示します（`from zerodl.trace import trace`）。
講座の順序で重み・バイアス・総入力・中間層出力・出力を形とともに表示し、値を dict で返します
（`lang="en"` で英語表示）。どの値も上のセルと一致します。

The same weights in a zerodl network, shown by `trace(model, x)` (`from zerodl.trace import
trace`): weights, biases, total inputs, hidden outputs and output in the course's order with
their shapes, returned as a dict (`lang="en"` for English labels). Every value matches the cell above.
"""),
    code(r"""
from zerodl.trace import trace

net = zerodl.Sequential([zerodl.Dense(3, 10, dtype=np.float64), zerodl.ReLU(),
                         zerodl.Dense(10, 5, dtype=np.float64), zerodl.ReLU(),
                         zerodl.Dense(5, 4, dtype=np.float64)], output="identity")
for key in net.params:
    net.params[key][:] = network[key]
values = trace(net, x.reshape(1, 3))
assert np.allclose(values["u1"], u1) and np.allclose(values["z2"], z2)
assert np.allclose(values["y"], y)
"""),
    md(r"""
試してみよう：各パラメータの形を表示し、別の乱数の初期値（seed を変える）で出力がどう変わるか見ます。

Try it: print each parameter's shape, and see how the output changes with other random initial
values (other seeds).
"""),
    code(r"""
for key, value in network.items():
    print(f"{key}: shape {value.shape}")
for seed in (2, 3, 4):
    y_seed = forward(init_network(np.random.default_rng(seed)), x)[0]
    print(f"seed {seed}: 出力 {y_seed}  出力合計 {y_seed.sum():.4f}")
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
x = np.array([[1.0, 2.0, 4.0]])
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
| 問題 / task | 出力層 / output | 誤差関数 / loss (1 サンプル / per sample) |
|---|---|---|
| 多クラス分類 / multi-class | ソフトマックス / softmax | $E_n = -\sum_k d_k \log y_k$ |
| 回帰 / regression | 恒等写像 / identity | $E_n = \frac{1}{2} \sum_j (y_j - d_j)^2$ |
| 二値分類 / binary | シグモイド / sigmoid | $E_n = -\sum_j [d_j \log y_j + (1 - d_j) \log(1 - y_j)]$ |

誤差はサンプルごとに出力ユニットについて **和** をとり、バッチでは $E = \frac{1}{N}\sum_n E_n$ と
サンプル数 $N$ で平均します（講座の式のとおり）。zerodl は出力層と誤差関数を組にして
(`mlp(output="softmax" | "identity" | "sigmoid")`)、勾配 $\partial E / \partial u = (y - d)/N$ を
正確かつ安定に計算します。

Each sample's error is a **sum** over the output units, and a batch averages over its $N$
samples, $E = \frac{1}{N}\sum_n E_n$, as the course's formulas say. zerodl pairs each output
layer with its loss (`mlp(output=...)`) so that the gradient $\partial E / \partial u = (y - d)/N$
is exact and stable.

講座のセルは重みを `np.random.rand` で引きます。ここでは同じ一様分布を seed を固定した
`np.random.default_rng` から引くので、何度実行しても同じ値になります。

The course's cells draw their weights with `np.random.rand`; here the same uniform values come
from a seeded `np.random.default_rng`, so every run prints the same numbers.
""") + [
    code(r"""
from zerodl.trace import trace

def print_vec(text, vec):
    print("*** " + text + " ***")
    print(vec)
    print("")

def uniform_network(sizes, rng):
    # the course's np.random.rand weights and biases, from a seeded generator
    network = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        network[f"W{i}"] = rng.random((n_in, n_out))
        network[f"b{i}"] = rng.random(n_out)
    return network

def as_zerodl(network, sizes, output, activation="relu"):
    net = zerodl.mlp(sizes, activation=activation, output=output, dtype=np.float64)
    for key in net.params:
        net.params[key][:] = network[key]
    return net
"""),
    md(r"""
## 多クラス分類（講座の題は 2-3-4、コードは 3-50-6）/ Multi-class classification (titled 2-3-4)

入力 $x = (1, 2, 3)$、正解 $d = (0, 0, 0, 1, 0, 0)$、中間層 50 ユニット（ReLU）、出力 6 クラス（ソフトマックス）。

Input $x = (1, 2, 3)$, label $d = (0, 0, 0, 1, 0, 0)$, 50 ReLU hidden units, 6 softmax outputs.
"""),
    code(r"""
sizes = [3, 50, 6]
network = uniform_network(sizes, np.random.default_rng(0))
x = np.array([1.0, 2.0, 3.0])
d = np.array([0, 0, 0, 1, 0, 0])
z1 = F.relu(np.dot(x, network["W1"]) + network["b1"])
y = F.softmax(np.dot(z1, network["W2"]) + network["b2"])
loss = F.cross_entropy_error(d, y)
print_vec("出力1", y)
print_vec("出力合計", np.sum(y))
print_vec("訓練データ", d)
print_vec("交差エントロピー誤差", loss)
assert np.isclose(y.sum(), 1) and np.isclose(loss, -np.log(y[3]))
"""),
    md(r"""
同じ重みの zerodl のネットワークで `trace` すると同じ出力と誤差になります（`print_fn=None` で表示を止め、
返り値の dict から値を読みます）。試してみよう：ノード数 3-5-6。

The same weights in a zerodl network give the same output and loss under `trace`
(`print_fn=None` silences it; the returned dict holds the values). Try it: 3-5-6.
"""),
    code(r"""
v = trace(as_zerodl(network, sizes, "softmax"), x.reshape(1, -1), d.reshape(1, -1), print_fn=None)
assert np.allclose(v["y"][0], y) and np.isclose(v["loss"], loss)
small = [3, 5, 6]
net = as_zerodl(uniform_network(small, np.random.default_rng(0)), small, "softmax")
v = trace(net, x.reshape(1, -1), d.reshape(1, -1))
print("3-5-6: 出力 y =", v["y"], " 誤差 =", v["loss"])
"""),
    md(r"""
## 回帰（講座の題は 2-3-2、コードは 3-50-2）/ Regression (titled 2-3-2)

入力 $x = (1, 2, 3)$、正解 $d = (2, 4)$、中間層 50 ユニット（ReLU）、出力 2 ユニット（恒等写像）、
二乗誤差 $E = \frac{1}{2}\sum_j (y_j - d_j)^2$。

Input $x = (1, 2, 3)$, target $d = (2, 4)$, 50 ReLU hidden units, 2 identity outputs, squared
error $E = \frac{1}{2}\sum_j (y_j - d_j)^2$.
"""),
    code(r"""
sizes = [3, 50, 2]
network = uniform_network(sizes, np.random.default_rng(0))
d = np.array([2.0, 4.0])
z1 = F.relu(np.dot(x, network["W1"]) + network["b1"])
y = np.dot(z1, network["W2"]) + network["b2"]
loss = F.mean_squared_error(d, y)
print_vec("中間層出力", z1)
print_vec("出力", y)
print_vec("訓練データ", d)
print_vec("二乗誤差", loss)
assert np.isclose(loss, 0.5 * np.sum((y - d) ** 2))
v = trace(as_zerodl(network, sizes, "identity"), x.reshape(1, -1), d.reshape(1, -1), print_fn=None)
assert np.isclose(v["loss"], loss)
"""),
    md(r"""
**出力ユニットについて和をとる / A sum over the output units.** 例えば $y = (1.02, 2.29)$ なら
$E = \frac{1}{2}(0.98^2 + 1.71^2) = 1.9422$。講座のコードは `np.mean` で全要素を平均するので、
出力が 2 個だと自分の式の半分の値になり、その勾配も半分になります。zerodl は式のとおり
サンプルごとに和、バッチで平均で、1 サンプルの勾配は $y - d$ です。

For $y = (1.02, 2.29)$: $E = \frac{1}{2}(0.98^2 + 1.71^2) = 1.9422$. The course's code takes
`np.mean` over all elements, which halves its own formula when there are two outputs (and
halves the gradient). zerodl follows the formula, a sum per sample and a mean over samples;
one sample's gradient is $y - d$.
"""),
    code(r"""
y_ex, d_ex = np.array([1.02, 2.29]), np.array([2.0, 4.0])
print("zerodl:           ", F.mean_squared_error(d_ex, y_ex), "= 1/2 (0.98^2 + 1.71^2) =",
      0.5 * (0.98 ** 2 + 1.71 ** 2))
print("mean of elements: ", 0.5 * np.mean((y_ex - d_ex) ** 2))
print("gradient y - d:   ", F.d_mean_squared_error(d_ex, y_ex))
assert np.isclose(F.mean_squared_error(d_ex, y_ex), 1.9422, atol=5e-5)
"""),
    md(r"""
試してみよう：ノード数 3-5-4（正解も 4 個に）。 / Try it: 3-5-4 (with four targets).
"""),
    code(r"""
small = [3, 5, 4]
net = as_zerodl(uniform_network(small, np.random.default_rng(0)), small, "identity")
d4 = np.array([[2.0, 4.0, 6.0, 8.0]])
v = trace(net, x.reshape(1, -1), d4)
print("3-5-4: 出力 y =", v["y"], " 誤差 =", v["loss"])
assert np.isclose(v["loss"], 0.5 * np.sum((v["y"] - d4) ** 2))
"""),
    md(r"""
## 二値分類（講座の題は 2-3-1、コードは 5-10-20-1）/ Binary classification (titled 2-3-1)

講座のセル：入力 $x = (1, 2, 2, 4, 5)$、正解 $d = 1$、中間層 10 と 20（ReLU）、出力 1（シグモイド）。
$W_1$ は講座が固定した 5×10 の行列（どの行も $(0.1, 0.3, 0.5, 0.1, 0.3, 0.5, 0.1, 0.3, 0.5, 0.1)$）、
ほかの重みとバイアスは一様乱数。総入力が大きいので出力は 1 に飽和します。

The course's cell: input $x = (1, 2, 2, 4, 5)$, label $d = 1$, hidden layers of 10 and 20
(ReLU), one sigmoid output. $W_1$ is the course's fixed 5×10 matrix (every row
$(0.1, 0.3, 0.5, 0.1, 0.3, 0.5, 0.1, 0.3, 0.5, 0.1)$), the rest uniform random. The total
input is large, so the output saturates at 1.
"""),
    code(r"""
sizes = [5, 10, 20, 1]
network = uniform_network(sizes, np.random.default_rng(0))
network["W1"] = np.tile([0.1, 0.3, 0.5, 0.1, 0.3, 0.5, 0.1, 0.3, 0.5, 0.1], (5, 1))
x5 = np.array([1.0, 2.0, 2.0, 4.0, 5.0])
d1 = np.array([1.0])
z1 = F.relu(np.dot(x5, network["W1"]) + network["b1"])
z2 = F.relu(np.dot(z1, network["W2"]) + network["b2"])
u3 = np.dot(z2, network["W3"]) + network["b3"]
y = F.sigmoid(u3)
print_vec("総入力3", u3)
print_vec("出力", y)
print_vec("訓練データ", d1)
print_vec("交差エントロピー誤差", F.cross_entropy_error(d1, y) + 0.0)   # + 0.0: prints 0.0, not -0.0
net = as_zerodl(network, sizes, "sigmoid")
v = trace(net, x5.reshape(1, -1), d1.reshape(1, -1), print_fn=None)
assert np.allclose(v["y"][0], y) and y[0] > 0.999
"""),
    md(r"""
正解を $d = 0$ にすると誤差は大きくなるはずです。zerodl の `cross_entropy_error` は出力 1 列を二値交差
エントロピーで計算するので、$d = 0$ では総入力 $u_3$ ほどの大きな誤差になります（飽和した $y$ からではなく
$u$ から計算するので有限の値）。講座の関数は 1 列では正解を見ないので、どちらの正解でも同じ値です（下の節）。

With the label $d = 0$ the error should be large. zerodl's `cross_entropy_error` scores one
column with binary cross-entropy; from $u$ (the model's loss) it is about $u_3$, finite even
though $y$ rounds to 1. The course's function ignores the label for one column (next section).
"""),
    code(r"""
for label in (1.0, 0.0):
    v = trace(net, x5.reshape(1, -1), np.array([[label]]), print_fn=None)
    print(f"d = {label:.0f}: loss from u = {v['loss']:.4f}")
print("u3 =", u3)
assert np.isclose(trace(net, x5.reshape(1, -1), np.array([[0.0]]), print_fn=None)["loss"], u3[0],
                  rtol=1e-6)
"""),
    md(r"""
試してみよう：ノード数 5-10-20-1 のまま、$W_1$ も一様乱数にします。 / Try it: 5-10-20-1 with a random $W_1$ too.
"""),
    code(r"""
net = as_zerodl(uniform_network(sizes, np.random.default_rng(1)), sizes, "sigmoid")
v = trace(net, x5.reshape(1, -1), d1.reshape(1, -1), print_fn=None)
print("5-10-20-1: 出力 y =", v["y"], " 誤差 =", v["loss"])
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
# zerodl's mean_squared_error is this 1/2 sum per sample, so its gradient is y - d here
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
$\varepsilon$ だけ重みを動かします。講座のオンライン学習のセル（$y = 3x_0 + 2x_1$ を 2-10-1 の
ネットワークで学習）と、その試してみよう（シグモイドの中間層、入力を $[-5, 5)$ に）を再現し、
エポックと 1 秒あたりの計算量、学習率、最適化手法の更新式と軌跡を見ます。

Gradient descent: $w^{(t+1)} = w^{(t)} - \varepsilon \nabla E$, a step of size $\varepsilon$
(the learning rate) against the gradient of the error. We rerun the course's online-learning
cell ($y = 3x_0 + 2x_1$ with a 2-10-1 network) and its try-its (a sigmoid hidden layer, inputs
in $[-5, 5)$), then look at epochs and cost per second, the learning rate, and each
optimizer's update formula and path.
""") + [
    md(r"""
## 講座のセル：オンライン学習 / The course's cell: online learning

講座と同じ設定：10 万個のデータ $x \sim U[0, 1)^2$、目標 $d = 3x_0 + 2x_1$、重みとバイアスは
`randn`（スケールなし）、学習率 0.07、1 ステップごとにデータから 1 個を選んで（`np.random.choice`）更新、
1000 ステップ。乱数は seed を固定したジェネレータから引きます。勾配は `d_mean_squared_error`
（1 サンプルでは $y - d$）。各ステップの誤差を散布図にします。

As in the course: 100,000 samples $x \sim U[0, 1)^2$, targets $d = 3x_0 + 2x_1$, weights and
biases from `randn` (unscaled), learning rate 0.07, each step one sample picked at random
(`np.random.choice`), 1000 steps; random numbers from a seeded generator. The gradient is
`d_mean_squared_error` ($y - d$ for one sample). The scatter plot shows each step's error.
"""),
    code(r"""
def online_regression(activation="relu", low=0.0, high=1.0, lr=0.07, steps=1000, seed=0):
    rng = np.random.default_rng(seed)
    data_sets = low + (high - low) * rng.random((100_000, 2))
    targets = 3 * data_sets[:, 0] + 2 * data_sets[:, 1]
    network = {"W1": rng.standard_normal((2, 10)), "b1": rng.standard_normal(10),
               "W2": rng.standard_normal((10, 1)), "b2": rng.standard_normal(1)}
    f, df = {"relu": (F.relu, F.d_relu), "sigmoid": (F.sigmoid, F.d_sigmoid)}[activation]
    losses = []
    for i in range(steps):
        n = rng.choice(len(data_sets))
        x, d = data_sets[n:n + 1], targets[n:n + 1].reshape(1, 1)
        u1 = np.dot(x, network["W1"]) + network["b1"]
        z1 = f(u1)
        y = np.dot(z1, network["W2"]) + network["b2"]
        delta2 = F.d_mean_squared_error(d, y)              # y - d
        delta1 = np.dot(delta2, network["W2"].T) * df(u1)  # the derivative at u1
        grad = {"W2": np.dot(z1.T, delta2), "b2": delta2.sum(axis=0),
                "W1": np.dot(x.T, delta1), "b1": delta1.sum(axis=0)}
        for key in network:
            network[key] -= lr * grad[key]
        losses.append(F.mean_squared_error(d, y))
    return np.array(losses)

with np.errstate(all="ignore"):
    runs = {"ReLU, x in [0, 1)": online_regression("relu"),
            "sigmoid, x in [0, 1)": online_regression("sigmoid"),
            "ReLU, x in [-5, 5)": online_regression("relu", -5.0, 5.0),
            "ReLU, x in [-5, 5), lr 0.002": online_regression("relu", -5.0, 5.0, lr=0.002)}
fig, axes = plt.subplots(1, 4, figsize=(18, 3.4))
for ax, (name, losses) in zip(axes, runs.items()):
    finite = np.isfinite(losses)
    ax.scatter(np.arange(len(losses))[finite], losses[finite], s=4)
    ax.set_yscale("log"); ax.set_title(name); ax.set_xlabel("step"); ax.grid(alpha=0.3)
    if finite.all():
        print(f"{name:<30} mean loss, first 100 steps {losses[:100].mean():9.4f}, "
              f"last 100 steps {losses[-100:].mean():9.4f}")
    else:
        print(f"{name:<30} diverged: the loss is no longer a number from step "
              f"{np.argmin(finite)} on")
axes[0].set_ylabel("loss")
plt.show()
assert runs["ReLU, x in [0, 1)"][-100:].mean() < 0.1 * runs["ReLU, x in [0, 1)"][:100].mean()
"""),
    md(r"""
試してみよう（シグモイドの中間層）：講座のコードは逆伝播で `d_sigmoid` を中間層の **出力** `z1` に
適用しています。正しくは総入力 `u1` で、上のセルはそうしています（ノート 2, 5 参照）。
シグモイドの傾きは最大 0.25 なので、ReLU より学習がゆっくりです。

試してみよう（入力を $[-5, 5)$ に）：目標が $-25$ から $25$ に広がり、誤差と勾配（入力 $x$ が掛かる）が
大きくなるので、同じ学習率 0.07 では 1 ステップが大きすぎて重みが発散し、誤差は数でなくなります (nan)。
学習率を 0.002 に下げると学習できます。

Try-it (sigmoid hidden layer): the course's backward applies `d_sigmoid` to the hidden
**output** `z1`; it belongs at the total input `u1`, as above (see notebooks 2 and 5). The
sigmoid's slope is at most 0.25, so it learns more slowly than ReLU.
Try-it (inputs in $[-5, 5)$): targets now range from $-25$ to $25$, errors and gradients grow,
and the same learning rate 0.07 makes steps too large: the weights diverge and the error
stops being a number (nan). A learning rate of 0.002 learns again.

## エポックと 1 秒あたりの計算量 / Epochs, and the cost per second

**1 エポック** は訓練データを 1 周することです。$N$ 個のデータをバッチサイズ $B$ で学習すると、
1 エポックで $N / B$ 回更新します。オンライン学習 ($B = 1$) は 1 エポックで $N$ 回、バッチ学習
($B = N$) は 1 回。1 回の更新の計算は $B$ に比例しますが、行列計算でまとめて処理するほど
1 サンプルあたりは安くなります。エポックごとだけでなく、**経過時間ごと** にも比べます。

An **epoch** is one pass over the training data. With $N$ samples and batch size $B$ an epoch
makes $N / B$ updates: $N$ for online learning ($B = 1$), one for full batch ($B = N$). An
update costs work proportional to $B$, but one matrix product over many samples is cheaper per
sample than many small ones. We compare per epoch and also **per second** of computation.
"""),
    code(r"""
import time
from zerodl.optimizers import SGD, OPTIMIZERS

rng = np.random.default_rng(0)
x = rng.random((2_000 if FAST else 10_000, 2)).astype(np.float32)
d = (3 * x[:, 0] + 2 * x[:, 1]).reshape(-1, 1)
EPOCHS = 2 if FAST else 8

fig, (ax_epoch, ax_time) = plt.subplots(1, 2, figsize=(12, 3.6), sharey=True)
print(f"{'batch':>10} {'updates/epoch':>14} {'s/epoch':>8} {'updates/s':>10} {'samples/s':>10} {'final loss':>11}")
for batch_size, lr in [(1, 0.07), (10, 0.07), (100, 0.07), (None, 0.07)]:
    m = zerodl.mlp([2, 10, 1], output="identity", init="he", seed=0)
    seconds, losses = [0.0], [m.loss(x, d)]
    for epoch in range(EPOCHS):
        start = time.perf_counter()
        m.fit(x, d, epochs=1, batch_size=batch_size, optimizer=SGD(lr=lr), verbose=0)
        seconds.append(seconds[-1] + time.perf_counter() - start)
        losses.append(m.loss(x, d))
    updates = 1 if batch_size is None else -(-len(x) // batch_size)
    per_epoch = seconds[-1] / EPOCHS
    name = "full" if batch_size is None else str(batch_size)
    print(f"{name:>10} {updates:>14} {per_epoch:>8.3f} {updates / per_epoch:>10.0f} "
          f"{len(x) / per_epoch:>10.0f} {losses[-1]:>11.5f}")
    ax_epoch.plot(range(EPOCHS + 1), losses, marker="o", label=f"batch {name}")
    ax_time.plot(seconds[1:], losses[1:], marker="o", label=f"batch {name}")
ax_epoch.set_xlabel("epoch"); ax_time.set_xlabel("seconds (log scale)"); ax_epoch.set_ylabel("training loss")
ax_time.set_xscale("log")
for ax in (ax_epoch, ax_time):
    ax.set_yscale("log"); ax.grid(alpha=0.3)
ax_time.legend()
plt.show()
"""),
    md(r"""
読み方：エポックあたりでは、更新回数の多いオンライン学習の誤差が最も速く下がります。一方、1 回の更新には
固定費がかかるので、1 秒あたりに処理できるサンプル数はバッチが大きいほど多く（表の samples/s）、
最初の短い時間ではミニバッチ（10〜100）の誤差が先に下がります（右：横軸は対数）。この 2-10-1 の
ネットワークは小さく 1 回の更新が安いので、時間が経つとオンライン学習も追いつきます。大きなネットワークや
GPU では、まとめて計算する利点がさらに大きくなります。バッチ学習は 1 エポックに 1 回しか更新しないので、
時間で見ても最も遅い。

How to read it: per epoch, online learning makes the most updates and its loss falls fastest.
Each update has a fixed cost, though, so samples per second grow with the batch size (the
table's samples/s), and in the first fraction of a second the mini-batches (10 to 100) get
ahead (right, log time axis). This 2-10-1 network is tiny and an update is cheap, so online
learning catches up later; with larger networks or parallel hardware, computing many samples
together pays off more. Full batch updates once per epoch and is the slowest in time as well.

## 確認テスト：勾配降下法の式 / Check question: the gradient descent formula

$w^{(t+1)} = w^{(t)} - \varepsilon \nabla E$ は `network[key] -= learning_rate * grad[key]`。
zerodl の `SGD(lr).update(params, grads)` が行うのはこの 1 行です。

$w^{(t+1)} = w^{(t)} - \varepsilon \nabla E$ is `network[key] -= learning_rate * grad[key]`,
exactly what `SGD(lr).update(params, grads)` does.
"""),
    code(r"""
model = zerodl.mlp([2, 10, 1], output="identity", init="he", seed=0)
grads = model.gradient(x[:1], d[:1])
before = {k: v.copy() for k, v in model.params.items()}
SGD(lr=0.07).update(model.params, grads)
for key in before:
    assert np.allclose(model.params[key], before[key] - np.float32(0.07) * grads[key])
print("one step: w <- w - 0.07 * grad, checked for", list(before))
"""),
    md(r"""
## 確認テスト：学習率 / The learning rate

小さすぎると誤差がなかなか下がらず、大きすぎると誤差が振動して収束しない（さらに大きいと発散する）。

Too small: the loss falls slowly. Too large: it jumps around instead of settling (larger still,
it diverges).
"""),
    code(r"""
STEPS = 300 if FAST else 1000
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
## 最適化手法：更新式とコード / Optimizers: the update formula beside the code

$f(x, y) = \frac{x^2}{20} + y^2$ の最小点 (0, 0) を $(-7, 2)$ から 30 ステップで探します。勾配は
$\nabla f = (x / 10,\ 2y)$：$y$ 方向は急で $x$ 方向は緩やか。各手法の 1 ステップを、式の横に
NumPy の 1 行ずつで書き、zerodl の最適化手法と同じ軌跡になることを確かめます
（$g$ は勾配、$\varepsilon$ は学習率、$\odot$ は要素ごとの積）。

We look for the minimum (0, 0) of $f(x, y) = \frac{x^2}{20} + y^2$ from $(-7, 2)$ in 30 steps.
The gradient $\nabla f = (x / 10,\ 2y)$ is steep along $y$ and shallow along $x$. Each
optimizer's step is written one NumPy line per formula line, and checked to follow the same
path as zerodl's optimizer ($g$ the gradient, $\varepsilon$ the learning rate).

| 手法 / optimizer | 更新式 / update |
|---|---|
| SGD | $w \leftarrow w - \varepsilon g$ |
| Momentum | $v \leftarrow \alpha v - \varepsilon g,\quad w \leftarrow w + v$ |
| Nesterov | $b \leftarrow \alpha b + g,\quad w \leftarrow w - \varepsilon (g + \alpha b)$ |
| AdaGrad | $h \leftarrow h + g \odot g,\quad w \leftarrow w - \varepsilon g / (\sqrt{h} + \epsilon)$ |
| RMSProp | $h \leftarrow \rho h + (1 - \rho) g \odot g,\quad w \leftarrow w - \varepsilon g / (\sqrt{h} + \epsilon)$ |
| AdaDelta | $h \leftarrow \rho h + (1 - \rho) g \odot g,\ \Delta \leftarrow \frac{\sqrt{s + \epsilon}}{\sqrt{h + \epsilon}} g,\ s \leftarrow \rho s + (1 - \rho) \Delta \odot \Delta,\ w \leftarrow w - \varepsilon \Delta$ |
| Adam | $m \leftarrow \beta_1 m + (1 - \beta_1) g,\ v \leftarrow \beta_2 v + (1 - \beta_2) g \odot g,\ w \leftarrow w - \varepsilon \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon}$ |
"""),
    code(r"""
def grad_f(w):
    return np.array([w[0] / 10, 2 * w[1]])

def sgd(w, g, s, lr):
    return w - lr * g                                     # w <- w - lr g

def momentum(w, g, s, lr, alpha=0.9):
    s["v"] = alpha * s.get("v", 0) - lr * g               # v <- alpha v - lr g
    return w + s["v"]                                     # w <- w + v

def nesterov(w, g, s, lr, alpha=0.9):
    s["b"] = alpha * s.get("b", 0) + g                    # b <- alpha b + g
    return w - lr * (g + alpha * s["b"])                  # w <- w - lr (g + alpha b)

def adagrad(w, g, s, lr, eps=1e-10):
    s["h"] = s.get("h", 0) + g * g                        # h <- h + g*g
    return w - lr * g / (np.sqrt(s["h"]) + eps)           # w <- w - lr g / (sqrt(h) + eps)

def rmsprop(w, g, s, lr, rho=0.99, eps=1e-8):
    s["h"] = rho * s.get("h", 0) + (1 - rho) * g * g      # h <- rho h + (1 - rho) g*g
    return w - lr * g / (np.sqrt(s["h"]) + eps)           # w <- w - lr g / (sqrt(h) + eps)

def adadelta(w, g, s, lr, rho=0.9, eps=1e-6):
    s["h"] = rho * s.get("h", 0) + (1 - rho) * g * g      # h <- rho h + (1 - rho) g*g
    delta = np.sqrt(s.get("s", 0) + eps) / np.sqrt(s["h"] + eps) * g   # step in weight units
    s["s"] = rho * s.get("s", 0) + (1 - rho) * delta * delta           # s <- rho s + (1 - rho) delta^2
    return w - lr * delta                                 # w <- w - lr delta

def adam(w, g, s, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] = s.get("t", 0) + 1
    s["m"] = beta1 * s.get("m", 0) + (1 - beta1) * g      # m <- beta1 m + (1 - beta1) g
    s["v"] = beta2 * s.get("v", 0) + (1 - beta2) * g * g  # v <- beta2 v + (1 - beta2) g*g
    m_hat = s["m"] / (1 - beta1 ** s["t"])                # bias corrections
    v_hat = s["v"] / (1 - beta2 ** s["t"])
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)        # w <- w - lr m_hat / (sqrt(v_hat) + eps)

RULES = {"sgd": (sgd, 0.95), "momentum": (momentum, 0.1), "nesterov": (nesterov, 0.1),
         "adagrad": (adagrad, 1.5), "rmsprop": (rmsprop, 0.15), "adadelta": (adadelta, 1.0),
         "adam": (adam, 0.3)}
paths = {}
for name, (rule, lr) in RULES.items():
    w, state, path = np.array([-7.0, 2.0]), {}, []
    params = {"w": np.array([-7.0, 2.0])}
    optimizer = OPTIMIZERS.get(name)(lr=lr)
    for step in range(30):
        path.append(w)
        w = rule(w, grad_f(w), state, lr)
        optimizer.update(params, {"w": grad_f(params["w"])})
        assert np.allclose(w, params["w"]), (name, step)
    paths[name] = np.array(path + [w])
    print(f"{name:<9} lr {lr:<5} after 30 steps (x, y) = {w.round(4)}, f = {w[0] ** 2 / 20 + w[1] ** 2:.5f}")

gx, gy = np.meshgrid(np.linspace(-10, 10, 200), np.linspace(-5, 5, 200))
fig, axes = plt.subplots(2, 4, figsize=(17, 6.5), sharex=True, sharey=True)
axes[-1, -1].axis("off")
for ax, (name, path) in zip(axes.ravel(), paths.items()):
    ax.contour(gx, gy, gx ** 2 / 20 + gy ** 2, levels=[0.25, 1, 2, 4, 7], colors="gray", linewidths=0.7)
    ax.plot(path[:, 0], path[:, 1], "o-", color="red", ms=3)
    ax.plot(0, 0, "+", color="black", ms=12)
    ax.set_title(f"{name} (lr={RULES[name][1]})")
plt.show()
"""),
    md(r"""
**なぜそれぞれの学習率か / Why each learning rate.**
- **SGD 0.95**：1 ステップで $y \leftarrow (1 - 2\varepsilon) y$、$x \leftarrow (1 - \varepsilon/10) x$。
  $\varepsilon \ge 1$ だと $y$ 方向が発散し、$\varepsilon$ が小さいと $x$ 方向がほとんど進みません。
  0.95 はその境目のすぐ手前で、$y$ はジグザグ（係数 $-0.9$）しながら、$x$ は 1 ステップ 9.5% ずつ縮みます。
- **Momentum / Nesterov 0.1**：速度 $v$ は過去の勾配を $\alpha = 0.9$ で積み上げ、一定の勾配では
  $1/(1 - \alpha) = 10$ 倍の歩幅になります。だから SGD の約 1/10。
- **AdaGrad 1.5、RMSProp 0.15、Adam 0.3**：勾配をその大きさ（$\sqrt{h}$ や $\sqrt{\hat v}$）で割るので、
  1 ステップの大きさは勾配の大きさによらずおよそ $\varepsilon$ です。学習率はパラメータの単位での歩幅で、
  $x$ が 7 だけ進む必要があることから決めます。AdaGrad は $h$ が増え続けて歩幅が縮むので大きめ、
  RMSProp は最初の数ステップで $h$ が小さく歩幅が $\varepsilon / \sqrt{1 - \rho} = 10\varepsilon$
  ほどになるので小さめ、Adam はバイアス補正で最初から約 $\varepsilon$ の歩幅です。
- **AdaDelta 1.0**（論文には学習率がなく 1.0 にあたります）：歩幅 $\Delta$ の単位を、これまでの歩幅の
  大きさの移動平均 $\sqrt{s + \epsilon}$ で重みの単位にそろえます。$s$ は 0 から始まるので最初の歩幅は
  $\sqrt{\epsilon} / \sqrt{1 - \rho} \approx 0.003$ ほどで、進んだ分だけしか大きくなりません。30 ステップでは
  $(-7, 2)$ からほとんど動きません。短い学習より長い学習向きです（`RULES` で `lr=100` も試してみよう）。

- **SGD 0.95**: a step maps $y \to (1 - 2\varepsilon) y$ and $x \to (1 - \varepsilon/10) x$.
  $\varepsilon \ge 1$ makes $y$ diverge, while a small $\varepsilon$ barely moves $x$; 0.95 sits
  just below that edge: $y$ zigzags (factor $-0.9$), $x$ shrinks by 9.5% a step.
- **Momentum / Nesterov 0.1**: the velocity accumulates past gradients with $\alpha = 0.9$; for a
  constant gradient the step becomes $1/(1 - \alpha) = 10$ times larger, so about a tenth of SGD's.
- **AdaGrad 1.5, RMSProp 0.15, Adam 0.3**: they divide the gradient by its own size
  ($\sqrt{h}$, $\sqrt{\hat v}$), so a step is about $\varepsilon$ long whatever the gradient:
  the learning rate is a distance in parameter units, chosen from the 7 units $x$ must travel.
  AdaGrad's $h$ only grows, shrinking its steps, hence the larger value; RMSProp's early steps
  are about $\varepsilon / \sqrt{1 - \rho} = 10\varepsilon$ while $h$ is still small, hence the
  smaller one; Adam's bias correction makes its steps about $\varepsilon$ from the start.
- **AdaDelta 1.0** (the paper has no learning rate: 1.0): the step $\Delta$ is measured in
  weight units by $\sqrt{s + \epsilon}$, the running size of its own past steps. $s$ starts at
  0, so the first steps are about $\sqrt{\epsilon} / \sqrt{1 - \rho} \approx 0.003$ long and
  grow only as the steps taken grow: in 30 steps it has barely left $(-7, 2)$. It suits long
  runs, not short ones (try `lr=100` in `RULES`).

## 回帰のネットワークで比べる / On the regression network

zerodl に登録されている最適化手法（`OPTIMIZERS`）を同じ条件（バッチ 10）で比べます。学習率は上と同じ考え方で、
SGD 系は勾配の大きさに合わせ（Momentum は SGD の数分の 1）、適応的な手法は重みの変化量として小さめにします。

Every optimizer registered in `OPTIMIZERS`, same conditions (batch 10). The learning rates
follow the same reasoning: SGD-like rules scale with the gradient (Momentum a fraction of SGD's),
adaptive rules take a small step length in weight units.
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
一度に求まります。講座の 2-3-2 のセルを講座の値のまま計算し、数値微分との速さの違いも測ります。

Backpropagation computes $\delta = \partial E / \partial u$ from the output back, passing it to
earlier layers by the chain rule. It **reuses** values stored in the forward pass ($z$, $u$),
so all gradients come in one sweep, far cheaper than numerical differentiation. We run the
course's 2-3-2 cell with its own values, and time backpropagation against numerical
differentiation.
""") + [
    md(r"""
## 講座の 2-3-2 のセル / The course's 2-3-2 cell

入力 $x = (1, 5)$、正解 $d = (0, 1)$、中間層 ReLU、出力層ソフトマックス＋交差エントロピー、学習率 0.01。
重みとバイアスは講座が固定した値です。講座と同じく $\delta_2$ を `d_sigmoid_with_loss(d, y)` で求めます：
1 サンプルでは $y - d$ で、ソフトマックスと交差エントロピーの組の勾配と同じ値です
（zerodl の 3 つの `d_*_with_loss` はどれも $(y - d)/N$）。

Input $x = (1, 5)$, label $d = (0, 1)$, ReLU hidden layer, softmax with cross-entropy, learning
rate 0.01, the course's fixed weights and biases. As in the course, $\delta_2$ comes from
`d_sigmoid_with_loss(d, y)`: for one sample that is $y - d$, the same as the softmax
cross-entropy gradient (zerodl's three `d_*_with_loss` are all $(y - d)/N$).
"""),
    code(r"""
def print_vec(text, vec):
    print("*** " + text + " ***")
    print(vec)
    print("")

network = {
    "W1": np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), "b1": np.array([0.1, 0.2, 0.3]),
    "W2": np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), "b2": np.array([0.1, 0.2]),
}
x = np.array([[1.0, 5.0]])
d = np.array([[0, 1]])
learning_rate = 0.01

u1 = np.dot(x, network["W1"]) + network["b1"]
z1 = F.relu(u1)
u2 = np.dot(z1, network["W2"]) + network["b2"]
y = F.softmax(u2)
loss = F.cross_entropy_error(d, y)

grad = {}
delta2 = F.d_sigmoid_with_loss(d, y)                          # y - d
grad["b2"] = np.sum(delta2, axis=0)
grad["W2"] = np.dot(z1.T, delta2)                              # reuses z1
delta1 = np.dot(delta2, network["W2"].T) * F.d_relu(z1)        # reuses delta2
grad["b1"] = np.sum(delta1, axis=0)
grad["W1"] = np.dot(x.T, delta1)                               # reuses x
print_vec("偏微分_dE/du2", delta2)
print_vec("偏微分_dE/du2", delta1)
print_vec("偏微分_重み1", grad["W1"])
print_vec("偏微分_重み2", grad["W2"])
print_vec("偏微分_バイアス1", grad["b1"])
print_vec("偏微分_バイアス2", grad["b2"])
for key in network:
    network[key] -= learning_rate * grad[key]
print("##### 結果表示 #####")
for key in ("W1", "W2", "b1", "b2"):
    print_vec(key, network[key])
assert np.allclose(delta2, [[0.0871, -0.0871]], atol=5e-5)
assert np.allclose(grad["W1"][1], -0.1306, atol=5e-5)
"""),
    md(r"""
講座は 2 つ目の「偏微分_dE/du2」の見出しで $\delta_1 = \partial E / \partial u_1$ を表示しています。
$\delta_1 = \delta_2 W_2^\top \odot f'(u_1)$ で、どの列も $0.0871 \times (0.1 - 0.4) = -0.0261$ です。

The course prints $\delta_1 = \partial E / \partial u_1$ under a second "偏微分_dE/du2" heading:
$\delta_1 = \delta_2 W_2^\top \odot f'(u_1)$, every entry $0.0871 \times (0.1 - 0.4) = -0.0261$.

同じ重みの zerodl のネットワークを `trace(model, x, d)` で表示すると、$\delta_2$（dE/du2）と
すべての勾配が同じ値になります。

The same weights in a zerodl network under `trace(model, x, d)` show the same $\delta_2$ (dE/du2)
and the same gradients.
"""),
    code(r"""
from zerodl.trace import trace

def course_232():
    net = zerodl.Sequential([zerodl.Dense(2, 3, dtype=np.float64), zerodl.ReLU(),
                             zerodl.Dense(3, 2, dtype=np.float64)], output="softmax")
    net.params["W1"][:] = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]
    net.params["b1"][:] = [0.1, 0.2, 0.3]
    net.params["W2"][:] = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]
    net.params["b2"][:] = [0.1, 0.2]
    return net

net = course_232()
values = trace(net, x, d)
assert np.allclose(values["delta2"], delta2) and np.allclose(values["delta1"], delta1)
for key in grad:
    assert np.allclose(values["grad"][key], grad[key])
"""),
    md(r"""
**再利用している値 / What is reused.** $\partial E/\partial W_2$ は順伝播の $z_1$ を、$\delta_1$ は
$\delta_2$ と $u_1$（ReLU ではその符号）を、$\partial E/\partial W_1$ は入力 $x$ を使います。
zerodl の層は `forward` でこれらを保存し、`backward` で使います。`model.layer_outputs(x)` は
各層の出力（Dense は総入力 $u$、活性化は $z$）を順に返します。

$\partial E/\partial W_2$ uses the forward pass's $z_1$; $\delta_1$ reuses $\delta_2$ and $u_1$
(for ReLU, its sign); $\partial E/\partial W_1$ uses the input $x$. zerodl's layers store these
in `forward` and read them in `backward`; `model.layer_outputs(x)` lists each layer's output
(a Dense layer's total input $u$, an activation's $z$).
"""),
    code(r"""
u1_, z1_, u2_ = net.layer_outputs(x)
print("u1 =", u1_, " z1 =", z1_, " u2 =", u2_)
assert np.allclose(z1_, z1) and np.allclose(u2_, u2)
"""),
    md(r"""
学習率 0.01 で 1 回更新します（講座のセルと同じ）。結果は上の手計算の更新後の値と一致します。

One update with learning rate 0.01, as in the course; the result equals the hand-computed update above.
"""),
    code(r"""
from zerodl.optimizers import SGD
loss_before = net.loss(x, d)
SGD(lr=0.01).update(net.params, net.gradient(x, d))
for key, value in net.params.items():
    print(key, value.round(5).tolist())
    assert np.allclose(value, network[key])
print("loss before", round(loss_before, 6), "after", round(net.loss(x, d), 6))
assert net.loss(x, d) < loss_before
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
## 数値微分と誤差逆伝播の速さ / Numerical differentiation vs backpropagation: time

数値微分はパラメータ 1 個ごとに順伝播を 2 回行うので、パラメータが $P$ 個なら $2P$ 回の順伝播が要ります。
誤差逆伝播は順伝播 1 回と逆伝播 1 回で、すべての勾配が求まります。ネットワークを大きくしながら、
勾配 1 回分の時間を測ります（値は同じであることも確かめます）。

Numerical differentiation runs the forward pass twice per parameter: $2P$ forward passes for
$P$ parameters. Backpropagation needs one forward and one backward pass for all of them. We
time one full gradient for growing networks (and check that the values agree).
"""),
    code(r"""
import time

def numerical_gradients(model, xs, ds):
    return {key: F.numerical_gradient(lambda _: model.loss(xs, ds), p)
            for key, p in model.params.items()}

rng = np.random.default_rng(0)
sizes_list = [[10, 10, 3], [20, 20, 5], [40, 30, 10]] if FAST else [[10, 10, 3], [50, 30, 10], [100, 50, 10]]
rows = []
for sizes in sizes_list:
    model = zerodl.mlp(sizes, seed=0, dtype=np.float64)
    xs, ds = rng.standard_normal((20, sizes[0])), rng.integers(0, sizes[-1], 20)
    start = time.perf_counter(); numeric = numerical_gradients(model, xs, ds)
    t_numeric = time.perf_counter() - start
    model.gradient(xs, ds)                       # a first call sets up work arrays
    start = time.perf_counter(); backprop = model.gradient(xs, ds)
    t_backprop = time.perf_counter() - start
    n_params = sum(p.size for p in model.params.values())
    diff = max(np.abs(numeric[k] - backprop[k]).max() for k in numeric)
    rows.append((f"{'-'.join(map(str, sizes))}\n{n_params} params", t_numeric, t_backprop))
    print(f"{'-'.join(map(str, sizes)):<10} {n_params:>6} parameters: numerical {t_numeric:8.4f} s, "
          f"backprop {t_backprop:8.5f} s, {t_numeric / t_backprop:8.0f} times faster, max diff {diff:.1e}")
    assert diff < 1e-6
names = [r[0] for r in rows]
positions = np.arange(len(rows))
plt.bar(positions - 0.2, [r[1] for r in rows], width=0.4, label="numerical differentiation")
plt.bar(positions + 0.2, [r[2] for r in rows], width=0.4, label="backpropagation")
plt.xticks(positions, names); plt.yscale("log"); plt.ylabel("seconds per gradient")
plt.legend(); plt.grid(alpha=0.3, axis="y"); plt.show()
"""),
    md(r"""
数値微分の時間はパラメータ数にほぼ比例して増え（1 回の順伝播もパラメータ数に比例するので、全体では
その 2 乗に近く）、誤差逆伝播との差は何百倍から何千倍にもなります。MNIST の 784-40-10（31,810 個）では数値微分は
実用になりません。数値微分は、誤差逆伝播の実装が正しいかの確認（勾配チェック）に使います。

The numerical gradient's time grows with the number of parameters (and each forward pass grows
too, so nearly with its square); backpropagation is hundreds to thousands of times faster here. For MNIST's
784-40-10 (31,810 parameters) numerical differentiation is impractical: it serves to check a
backpropagation implementation (the gradient check), not to train.
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
ソフトマックス、初期値 `0.01 * randn`、バイアス 0、学習率 0.1 の SGD、バッチサイズ 100（毎回
60,000 枚から重複ありで選ぶ）、1000 回の反復で、10 回ごとにそのバッチとテストデータ 10,000 枚の
正解率を記録します。その後、Xavier と He の初期値の式を確かめ、初期値・中間層のノード数・
バッチサイズ・学習率を変えて比べます。

Handwritten digits (28×28 pixels, 0 to 9) with a 784-40-10 network, as in the course's cell:
ReLU, softmax, initial weights `0.01 * randn`, zero biases, SGD with learning rate 0.1, batches
of 100 drawn with replacement from the 60,000 images, 1000 iterations, and every 10 iterations
the accuracy on that batch and on the 10,000 test images. Then the Xavier and He formulas, and
variations of the initialisation, hidden size, batch size and learning rate.

データは `$ZERODL_DATA_DIR` のフォルダ、なければ zerodl のキャッシュかダウンロードから読みます。
The data come from the folder in `$ZERODL_DATA_DIR`, else zerodl's cache or a download.
""") + [
    code(r"""
from zerodl.datasets import load_mnist
from zerodl.optimizers import SGD
from zerodl.trace import trace

(x_train, d_train), (x_test, d_test) = load_mnist(normalize=True, one_hot_label=True)
print(x_train.shape, d_train.shape, x_test.shape, d_test.shape, x_train.dtype)
if FAST:
    x_train, d_train, x_test, d_test = x_train[:2000], d_train[:2000], x_test[:500], d_test[:500]
ITERS = 100 if FAST else 1000

fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))
for ax, img, label in zip(axes, x_train, d_train):
    ax.imshow(img.reshape(28, 28), cmap="gray"); ax.set_title(int(label.argmax())); ax.axis("off")
plt.show()
"""),
    md(r"""
## 講座のセル：784-40-10 / The course's cell

講座のループをそのまま zerodl で書きます：バッチを `choice` で重複ありに選び（seed を固定した
ジェネレータ）、`model.train_step` で 1 回更新（順伝播、`d_softmax_with_loss`、逆伝播、SGD）。
10 回ごとに、そのバッチの正解率（正答率(トレーニング)）とテストデータの正解率（正答率(テスト)）を記録し、
100 回ごとに表示します。

The course's loop, written with zerodl: each batch drawn with replacement by `choice` (a seeded
generator), one update by `model.train_step` (forward, `d_softmax_with_loss`, backward, SGD).
Every 10 iterations the accuracy on that batch (正答率(トレーニング)) and on the test images
(正答率(テスト)) is recorded; every 100 it is printed.
"""),
    code(r"""
model = zerodl.mlp([784, 40, 10], activation="relu", output="softmax", init=0.01, seed=0)
model.summary()
optimizer = SGD(lr=0.1)
rng = np.random.default_rng(0)
train_size, batch_size, plot_interval = len(x_train), 100, 10
accuracies_train, accuracies_test, iterations = [], [], []
for i in range(ITERS):
    batch_mask = rng.choice(train_size, batch_size)
    x_batch = model.prepare_inputs(x_train[batch_mask])
    d_batch = model.prepare_labels(d_train[batch_mask], batch_size)
    loss, y = model.train_step(x_batch, d_batch, optimizer)
    if (i + 1) % plot_interval == 0:
        accr_train = float(np.mean(y.argmax(axis=1) == d_batch.argmax(axis=1)))
        accr_test = model.evaluate(x_test, d_test)["accuracy"]
        accuracies_train.append(accr_train); accuracies_test.append(accr_test)
        iterations.append(i + 1)
        if (i + 1) % 100 == 0:
            print(f"Generation: {i + 1:4d}  正答率(トレーニング) = {accr_train:.2f}  "
                  f"正答率(テスト) = {accr_test:.4f}")

plt.plot(iterations, accuracies_train, label="training set")
plt.plot(iterations, accuracies_test, label="test set")
plt.legend(loc="lower right"); plt.title("accuracy")
plt.xlabel("count"); plt.ylabel("accuracy"); plt.ylim(0, 1.0); plt.grid(alpha=0.3)
plt.show()
print(f"test accuracy {accuracies_test[-1]:.4f} after {ITERS} iterations")
assert accuracies_test[-1] > (0.5 if FAST else 0.85)
"""),
    md(r"""
1 枚の画像の順伝播・逆伝播を `trace` で見ます。大きな配列は端と最小・平均・最大に要約されます。

A trace of one image; large arrays are summarised by their corners and min / mean / max.
"""),
    code(r"""
v = trace(model, x_test[:1], d_test[:1], lang="en", threshold=20)
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

## Xavier と He の初期値 / Xavier and He initialisation

前の層のノード数を $n$ として、重みを標準正規分布から引き、
- **Xavier**：標準偏差 $\sqrt{1/n} = 1/\sqrt{n}$（講座：`np.random.randn(n, m) / np.sqrt(n)`）。シグモイドや tanh 向き。
- **He**：標準偏差 $\sqrt{2/n}$（講座：`np.random.randn(n, m) / np.sqrt(n) * np.sqrt(2)`）。ReLU 向き：
  ReLU は半分のユニットを 0 にするので、分散を保つには 2 倍が要ります。

各層の総入力の分散が層を通っても変わらないようにするのが狙いです。$n = 784$ なら Xavier は
$1/28 = 0.0357$、He は $\sqrt{2}/28 = 0.0505$。zerodl の `init="xavier"`, `init="he"` がこの式であることを確かめます。

With $n$ the number of units in the previous layer, weights are drawn from a standard normal and
scaled: **Xavier** to standard deviation $\sqrt{1/n} = 1/\sqrt{n}$ (the course:
`np.random.randn(n, m) / np.sqrt(n)`), for sigmoid and tanh; **He** to $\sqrt{2/n}$ (the course:
`np.random.randn(n, m) / np.sqrt(n) * np.sqrt(2)`), for ReLU, which zeroes half the units and
so needs twice the variance. Both keep the variance of the total inputs the same from layer to
layer. For $n = 784$: Xavier $1/28 = 0.0357$, He $\sqrt{2}/28 = 0.0505$. zerodl's
`init="xavier"` and `init="he"` follow these formulas:
"""),
    code(r"""
for init, formula in [("xavier", 1 / np.sqrt(784)), ("he", np.sqrt(2 / 784))]:
    m = zerodl.mlp([784, 40, 10], init=init, seed=0, dtype=np.float64)
    print(f"{init:<7} std of W1 = {m.params['W1'].std():.4f}, formula {formula:.4f}; "
          f"std of W2 = {m.params['W2'].std():.4f}, formula {np.sqrt((1 if init == 'xavier' else 2) / 40):.4f}")
    assert np.isclose(m.params["W1"].std(), formula, rtol=0.03)

# what the initialisation does to the hidden total inputs u1 of 1000 training images
fig, axes = plt.subplots(1, 3, figsize=(12, 3), sharex=True, sharey=True)
for ax, init in zip(axes, [0.01, "xavier", "he"]):
    m = zerodl.mlp([784, 40, 10], init=init, seed=0)
    u1 = m.layer_outputs(x_train[:1000])[0]
    ax.hist(u1.ravel(), bins=50); ax.set_title(f"init={init}: std of u1 {u1.std():.3f}")
plt.show()
"""),
    md(r"""
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

中間層 10 層（各 100 ユニット）のネットワークを MNIST で少し学習させ、`zerodl.layer_stats.LayerStats`
で層ごとの勾配のノルム $\|\partial E / \partial W\|$ を記録します。シグモイド + Xavier と ReLU + He を比べます。

A network with ten hidden layers of 100 units, trained a little on MNIST;
`zerodl.layer_stats.LayerStats` records each layer's gradient norm $\|\partial E / \partial W\|$.
Sigmoid with Xavier against ReLU with He.
"""),
    code(r"""
from zerodl.layer_stats import LayerStats
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



def _sibling(name: str):
    """A module of this folder, loaded by its path (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# 8. Overfitting and its cures (day 2): its own file, nb08_overfitting.py
_nb8 = _sibling("nb08_overfitting")
NB8 = header(*_nb8.TITLE, _nb8.INTRO) + [md(text) if kind == "md" else code(text)
                                        for kind, text in _nb8.CELLS]

# 9. Convolutional networks (the book's chapters 7 and 8): its own file, nb09_convolution.py
_nb9 = _sibling("nb09_convolution")
NB9 = header(*_nb9.TITLE, _nb9.INTRO) + [md(text) if kind == "md" else code(text)
                                        for kind, text in _nb9.CELLS]

NOTEBOOKS = {
    "01_forward_propagation.ipynb": NB1,
    "02_activation_functions.ipynb": NB2,
    "03_output_layers_and_losses.ipynb": NB3,
    "04_gradient_descent.ipynb": NB4,
    "05_backpropagation.ipynb": NB5,
    "06_mnist.ipynb": NB6,
    "07_looking_inside.ipynb": NB7,
    "08_overfitting.ipynb": NB8,
    "09_convolution.ipynb": NB9,
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
