"""Notebook 8 (day 2, part 1): overfitting and its cures, as data that build.py reads.

``TITLE`` (Japanese, English), ``INTRO`` and ``CELLS``; build.py puts its usual header (the
setup cell) in front. It lives in its own file because build.py already holds seven notebooks.
"""

TITLE = ("8. 過学習とその対策", "8. Overfitting and its cures")

INTRO = r"""
訓練データが少なく、ネットワークが大きいと、ネットワークは訓練データを「丸暗記」します。
訓練データの正解率は 100% に近づくのに、見たことのないテストデータの正解率は伸びません。これが
**過学習** です。このノートでは講座の day 2 の実験を zerodl で行います：MNIST の 300 枚だけで
784-100×6-10 を学習させて過学習を起こし、**荷重減衰**（weight decay）と **ドロップアウト** で
訓練とテストの差を縮め、**バッチ正規化** が中間層の出力の分布と学習の速さをどう変えるかを見ます。
バッチ正規化の前に、その動機である、深いシグモイドのネットワークで勾配が消える様子を見ます。

With little training data and a large network, the network memorises its training set: the
training accuracy climbs towards 100 % while the accuracy on unseen test images stalls. This
is **overfitting**. This notebook runs day 2's experiments with zerodl: 784-100×6-10 trained on
only 300 MNIST images overfits; **weight decay** and **dropout** narrow the gap between
training and test accuracy; and **batch normalisation** changes the distribution of the hidden
layers' outputs and the speed of learning. Before batch normalisation, the vanishing gradient
of a deep sigmoid network, which motivates it.
"""

#: The cells after the header: ("md", text) or ("code", text).
CELLS = [
    ("code", r"""
from zerodl.datasets import load_mnist
from zerodl.layer_stats import LayerStats
from zerodl.optimizers import SGD

(x_train, d_train), (x_test, d_test) = load_mnist()
x_small, d_small = x_train[:300], d_train[:300]           # 300 training images only
x_eval, d_eval = (x_test[:500], d_test[:500]) if FAST else (x_test[:2000], d_test[:2000])
EPOCHS = 30 if FAST else 100
DEEP = [784] + [100] * 6 + [10]                            # 784-100x6-10
print("training", x_small.shape, "test", x_eval.shape, "epochs", EPOCHS)
"""),
    ("md", r"""
## 1. 過学習 / Overfitting

784-100×6-10（ReLU、He の初期値）を 300 枚で、SGD（学習率 0.05、バッチ 100）で学習させます。
`fit(eval_every=...)` は一定のステップごとに、訓練データ全体とテストデータの正解率を推論モードで
測ります（ドロップアウトなし、バッチ正規化は移動平均）。300 枚・バッチ 100 なので 1 エポック = 3 ステップです。

784-100×6-10 (ReLU, He initialisation) on 300 images, SGD (learning rate 0.05, batch 100).
`fit(eval_every=...)` measures, every few steps, the accuracy on the whole training set and
on the test images in inference mode (no dropout; batch norm with its running statistics).
300 images in batches of 100: an epoch is 3 steps.
"""),
    ("code", r"""
def train_deep(weight_decay=0.0, dropout=0.0, epochs=EPOCHS, seed=0):
    model = zerodl.mlp(DEEP, init="he", seed=seed, weight_decay=weight_decay, dropout=dropout)
    history = model.fit(x_small, d_small, epochs=epochs, batch_size=100, optimizer=SGD(lr=0.05),
                        validation_data=(x_eval, d_eval), eval_every=6, verbose=0, seed=seed)
    epoch = np.array(history.steps["step"]) / 3
    steps = history.steps
    return model, epoch, np.array(steps["accuracy"]), np.array(steps["val_accuracy"])

plain_model, epoch, train_acc, test_acc = train_deep()
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(epoch, train_acc, label="training data (300 images)")
ax.plot(epoch, test_acc, label=f"test data ({len(x_eval)} images)")
ax.fill_between(epoch, test_acc, train_acc, color="gray", alpha=0.15, label="gap")
ax.set_xlabel("epoch"); ax.set_ylabel("accuracy"); ax.set_ylim(0, 1.02); ax.grid(alpha=0.3)
ax.set_title("Overfitting: 784-100x6-10 on 300 MNIST images"); ax.legend(loc="lower right")
plt.show()
print(f"final accuracy: training {train_acc[-1]:.3f}, test {test_acc[-1]:.3f}, "
      f"gap {train_acc[-1] - test_acc[-1]:.3f}")
assert train_acc[-1] - test_acc[-1] > (0.1 if FAST else 0.2)
"""),
    ("md", r"""
訓練データの正解率はほぼ 1.0 まで上がりますが、テストデータの正解率はずっと低いところで止まります。
その差（灰色）が過学習です。ネットワークのパラメータは約 13 万個、訓練データは 300 枚：
1 枚 1 枚の癖まで覚えられるだけの自由度があります。

The training accuracy rises to about 1.0 while the test accuracy stops far below: the gray
band is the overfitting. The network has about 130,000 parameters for 300 images: enough
freedom to learn each image's quirks by heart.

## 2. 荷重減衰 / Weight decay

大きな重みに罰則を科します。誤差関数に重みの二乗和を足し、

$$E_{\text{total}} = E + \frac{\lambda}{2} \sum_l \|W^{(l)}\|^2, \qquad
\frac{\partial E_{\text{total}}}{\partial W^{(l)}} = \frac{\partial E}{\partial W^{(l)}} + \lambda W^{(l)}$$

なので、毎回の更新で重みが $\varepsilon \lambda W$ だけ 0 に引き戻されます（バイアスには掛けません）。
`zerodl.mlp(..., weight_decay=λ)` がこれです（各 Dense 層の `kernel_regularizer=L2(λ/2)`、
`fit` の表示する損失にも罰則が入ります）。

A penalty on large weights: the squared weights are added to the loss, so the gradient gains
$\lambda W$ and every update pulls the weights back towards 0 by $\varepsilon \lambda W$ (biases
are not penalised). That is `zerodl.mlp(..., weight_decay=λ)` (each Dense layer's
`kernel_regularizer=L2(λ/2)`; the loss `fit` reports includes the penalty).

## 3. ドロップアウト / Dropout

学習中、中間層のユニットを毎回ランダムに割合 $p$ だけ消します（出力を 0 に）。残ったユニットは
$1 / (1 - p)$ 倍するので、推論時（全ユニットを使う）と出力の期待値が同じです（inverted dropout、
本の `Dropout` は推論時に $(1 - p)$ 倍する逆の流儀で、期待値は同じ）。逆伝播は同じマスクを通します：

$$y = x \odot m, \qquad \frac{\partial E}{\partial x} = \frac{\partial E}{\partial y} \odot m, \qquad
m_i = \begin{cases} 1/(1-p) & \text{確率 / with probability } 1 - p \\ 0 & \text{確率 / with probability } p \end{cases}$$

毎回ちがう「部分ネットワーク」を学習させることになり、特定のユニットの組み合わせに頼れなくなります。
`zerodl.mlp(..., dropout=p)` は各中間層の活性化関数の後に `Dropout(p)` を置きます。

While training, each hidden unit is dropped (set to 0) at random with probability $p$; the kept
ones are scaled by $1 / (1 - p)$ so that the expected output equals the output at inference,
where every unit is used (inverted dropout; the book's `Dropout` scales by $(1 - p)$ at
inference instead, with the same expected value). Backward passes through the same mask. Every
step trains a different sub-network, so no unit can rely on particular others.
`zerodl.mlp(..., dropout=p)` puts a `Dropout(p)` after every hidden activation.

同じ条件で、荷重減衰 $\lambda = 0.1$、ドロップアウト $p = 0.2$、その両方（$\lambda = 0.03$ と $p = 0.2$）を比べます。

Same conditions, with weight decay $\lambda = 0.1$, dropout $p = 0.2$, and both ($\lambda = 0.03$ with $p = 0.2$).
"""),
    ("code", r"""
cases = {"no regularisation": {}, "weight decay 0.1": {"weight_decay": 0.1},
         "dropout 0.2": {"dropout": 0.2},
         "both (0.03, 0.2)": {"weight_decay": 0.03, "dropout": 0.2}}
runs = {"no regularisation": (plain_model, epoch, train_acc, test_acc)}
for name, kw in cases.items():
    if name not in runs:
        runs[name] = train_deep(**kw)

fig, axes = plt.subplots(1, len(runs), figsize=(16, 3.8), sharey=True)
for ax, (name, (model, ep, tr, te)) in zip(axes, runs.items()):
    ax.plot(ep, tr, label="training"); ax.plot(ep, te, label="test")
    ax.fill_between(ep, te, tr, color="gray", alpha=0.15)
    ax.set_title(f"{name}\ngap {tr[-1] - te[-1]:.3f} (test {te[-1]:.3f})")
    ax.set_xlabel("epoch"); ax.grid(alpha=0.3)
axes[0].set_ylabel("accuracy"); axes[0].set_ylim(0, 1.02); axes[0].legend(loc="lower right")
fig.tight_layout(); plt.show()
for name, (model, ep, tr, te) in runs.items():
    print(f"{name:<18} training {tr[-1]:.3f}  test {te[-1]:.3f}  gap {tr[-1] - te[-1]:.3f}")
"""),
    ("md", r"""
荷重減衰は重みを小さく保つことで、ドロップアウトは毎回ユニットを間引くことで、訓練データへの
当てはまりを弱め、訓練とテストの差を縮めます。ただしテストの正解率が大きく上がるわけではありません：
300 枚から学べることには限りがあり、効きすぎると（$\lambda$ や $p$ を大きくすると）訓練データさえ
覚えられなくなります（未学習）。最も効く対策はデータを増やすことです。荷重減衰が重みをどれだけ
小さくしたかを、2 層目の重みの分布で見ます。

Weight decay (by keeping the weights small) and dropout (by thinning the units at every step)
loosen the fit to the training set and narrow the gap. They do not lift the test accuracy
much: 300 images hold only so much, and too much of either (a larger $\lambda$ or $p$) stops the
network from fitting even its training data (underfitting). The strongest cure is more data.
How much smaller weight decay kept the weights, in the second layer's weights:
"""),
    ("code", r"""
fig, ax = plt.subplots(figsize=(7, 3.6))
for name in ("no regularisation", "weight decay 0.1"):
    W2 = runs[name][0].params["W2"].ravel()
    ax.hist(W2, bins=80, range=(-0.6, 0.6), histtype="step", lw=1.8,
            label=f"{name}: std {W2.std():.3f}")
ax.set_xlabel("weight value in W2 (100 x 100)"); ax.set_ylabel("count")
ax.set_title("Weights after training: weight decay pulls them towards 0")
ax.legend(); ax.grid(alpha=0.3); plt.show()
W2_std = {name: runs[name][0].params["W2"].std() for name in runs}
assert W2_std["weight decay 0.1"] < W2_std["no regularisation"]
"""),
    ("md", r"""
## 4. 勾配消失 / The vanishing gradient

シグモイドの導関数は最大でも $0.25$ です。逆伝播で層を 1 つ戻るたびに $f'(u)$ と $W^\top$ が
掛かるので、深いネットワークでは入力側の層に届く勾配が何桁も小さくなり、そこはほとんど学習しません。
784-100×6-10 のシグモイド（Xavier の初期値）を MNIST 2000 枚で 60 ステップ学習させ、
`LayerStats` で層ごとの勾配のノルム $\|\partial E / \partial W\|$ を記録します。
バッチ正規化を入れたもの（次の節）と比べます。

The sigmoid's derivative is at most $0.25$. Each layer backpropagation goes through multiplies
by $f'(u)$ and $W^\top$, so in a deep network the gradient that reaches the layers near the
input is orders of magnitude smaller, and those layers barely learn. 784-100×6-10 with
sigmoids (Xavier initialisation), 60 steps on 2000 MNIST images; `LayerStats` records each
layer's gradient norm $\|\partial E / \partial W\|$. Beside it, the same network with batch
normalisation (next section).
"""),
    ("code", r"""
x_2k, d_2k = x_train[:2000], d_train[:2000]
grad_runs = {}
for batch_norm in (False, True):
    model = zerodl.mlp(DEEP, activation="sigmoid", init="xavier", seed=0, batch_norm=batch_norm)
    stats = LayerStats(every=1)
    history = model.fit(x_2k, d_2k, steps=60, batch_size=100, optimizer=SGD(lr=0.1), verbose=0,
                        seed=0, eval_every=5, callbacks=[stats])
    grad_runs["sigmoid + batch norm" if batch_norm else "sigmoid"] = (stats, history)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4))
for name, (stats, history) in grad_runs.items():
    keys = list(stats.history)
    mean_norm = [np.mean(stats.history[k]["grad_norm"]) for k in keys]
    ax1.semilogy(range(1, len(keys) + 1), mean_norm, marker="o", label=name)
    ax2.plot(history.steps["step"], history.steps["accuracy"], marker="o", ms=3, label=name)
ax1.set_xticks(range(1, len(keys) + 1), keys)
ax1.set_xlabel("layer (input side -> output side)"); ax1.set_ylabel("mean ||dE/dW|| over 60 steps")
ax1.set_title("Gradient norm per layer, 784-100x6-10"); ax1.grid(alpha=0.3, which="both")
ax1.legend()
ax2.set_xlabel("step"); ax2.set_ylabel("training accuracy (2000 images)"); ax2.set_ylim(0, 1)
ax2.set_title("Learning in the first 60 steps (SGD 0.1)"); ax2.grid(alpha=0.3); ax2.legend()
fig.tight_layout(); plt.show()
sig = grad_runs["sigmoid"][0].history
ratio = np.mean(sig["W1"]["grad_norm"]) / np.mean(sig["W7"]["grad_norm"])
print(f"sigmoid: ||dE/dW1|| / ||dE/dW7|| = {ratio:.1e}")
assert ratio < 0.1
"""),
    ("md", r"""
シグモイドだけのネットワークでは、1 層目の勾配が出力層の勾配より桁違いに小さく、60 ステップでは
ほとんど学習が進みません（正解率は 1 割前後＝当てずっぽう）。バッチ正規化を入れると各層の勾配の
大きさがそろい、同じ 60 ステップで学習が進みます。

In the sigmoid-only network the first layer's gradient is orders of magnitude smaller than the
output layer's, and 60 steps achieve almost nothing (about 10 % accuracy: guessing). With batch
normalisation the layers' gradients stay within a narrow range and the same 60 steps learn.

## 5. バッチ正規化 / Batch normalisation

ミニバッチごとに、中間層の総入力 $u$ を特徴ごとに平均 0・分散 1 にそろえ、学習するパラメータ
$\gamma$（スケール）と $\beta$（シフト）で戻します（$m$ はバッチの大きさ）：

$$\mu = \frac{1}{m} \sum_i u_i, \quad \sigma^2 = \frac{1}{m} \sum_i (u_i - \mu)^2, \quad
\hat u_i = \frac{u_i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y_i = \gamma \hat u_i + \beta$$

推論時はバッチの統計の代わりに、学習中に取った移動平均（`running_mean`, `running_var`）を使います。
`zerodl.mlp(..., batch_norm=True)` は各中間層を Dense → BatchNormalization → 活性化関数 の順にします。

まず、中間層の出力（活性化関数の後）の分布を見ます。初期値の標準偏差 1.0（大きすぎ）と 0.01
（小さすぎ）のシグモイドのネットワークに 1000 枚を入れ、学習モードで（バッチの統計で正規化して）
順伝播します。

For each mini-batch, the hidden layers' total inputs $u$ are brought to mean 0 and variance 1
per feature, then scaled and shifted back by the trainable $\gamma$ and $\beta$ ($m$: the batch
size). At inference the running averages gathered in training (`running_mean`,
`running_var`) replace the batch's statistics. `zerodl.mlp(..., batch_norm=True)` orders each
hidden layer Dense -> BatchNormalization -> activation.

First the distribution of the hidden outputs (after the activation): sigmoid networks with
initial standard deviation 1.0 (too large) and 0.01 (too small), 1000 images, a forward pass in
training mode (normalised with the batch's statistics).
"""),
    ("code", r"""
def hidden_outputs(model, x):
    # Each activation's output, forward in training mode: batch norm uses the batch's statistics.
    h, outputs = model.prepare_inputs(x), []
    for layer in model.layers:
        h = layer.forward(h, training=True)
        if isinstance(layer, zerodl.Sigmoid):
            outputs.append(h)
    return outputs

x_1k = x_train[:1000]
rows = [(std, bn) for std in (1.0, 0.01) for bn in (False, True)]
fig, axes = plt.subplots(len(rows), 6, figsize=(16, 9), sharex=True, sharey="row")
for row, (std, bn) in zip(axes, rows):
    model = zerodl.mlp(DEEP, activation="sigmoid", init=std, seed=0, batch_norm=bn)
    for k, (ax, z) in enumerate(zip(row, hidden_outputs(model, x_1k)), start=1):
        ax.hist(z.ravel(), bins=30, range=(0, 1), weights=np.full(z.size, 1 / z.size))
        ax.set_title(f"std {std}, {'BN' if bn else 'no BN'}: layer {k}", fontsize=9)
        ax.grid(alpha=0.3)
    row[0].set_ylabel("share of outputs")
for ax in axes[-1]:
    ax.set_xlabel("sigmoid output")
fig.suptitle("Hidden outputs of 784-100x6-10 (sigmoid), without and with batch normalisation")
fig.tight_layout(); plt.show()
"""),
    ("md", r"""
- 標準偏差 1.0、BN なし：出力が 0 と 1 に張り付きます（飽和）。そこでは $f'(u) \approx 0$ で、勾配が流れません。
- 標準偏差 0.01、BN なし：深い層ほど出力が 0.5 の一点に集まり、どのユニットも同じ値を出します。
- BN あり：初期値の大きさによらず、どの層でも出力が 0〜1 に広く散らばります。$\hat u$ が平均 0・分散 1
  なので、シグモイドの傾きの大きい範囲に入るからです。

- Std 1.0 without BN: the outputs stick to 0 and 1 (saturation), where $f'(u) \approx 0$ and no
  gradient flows.
- Std 0.01 without BN: layer after layer the outputs gather at the single value 0.5; every unit
  says the same thing.
- With BN: whatever the initial scale, every layer's outputs spread over 0 to 1, because
  $\hat u$ has mean 0 and variance 1, the range where the sigmoid is steep.

### 初期値の大きさと学習の速さ / Initial scale and learning speed

本の実験にならい、784-100×5-10（ReLU）を MNIST 1000 枚で、重みの初期値の標準偏差を 1 から 0.001 まで
変えて学習させます（SGD 学習率 0.1）。実線が BN あり、破線が BN なしの訓練データの正解率です。

After the book's experiment: 784-100×5-10 (ReLU) on 1000 MNIST images, the initial weights'
standard deviation from 1 down to 0.001 (SGD, learning rate 0.1). Solid: with batch norm;
dashed: without; the accuracy on the training data.
"""),
    ("code", r"""
x_1k, d_1k = x_train[:1000], d_train[:1000]
scales = [1.0, 0.1, 0.01, 0.001] if FAST else [1.0, 0.3, 0.1, 0.03, 0.01, 0.001]
speed_epochs = 6 if FAST else 20
n_rows = 1 if FAST else 2
fig, axes = plt.subplots(n_rows, len(scales) // n_rows, figsize=(15, 3.6 * n_rows),
                         sharex=True, sharey=True)
axes = np.ravel(axes)
finals = {}
for ax, std in zip(axes, scales):
    for bn, style in ((True, "-"), (False, "--")):
        model = zerodl.mlp([784] + [100] * 5 + [10], init=std, seed=0, batch_norm=bn)
        label = "batch norm" if bn else "no batch norm"
        try:
            with np.errstate(over="ignore", invalid="ignore"):   # std 1.0 without BN overflows
                h = model.fit(x_1k, d_1k, epochs=speed_epochs, batch_size=100,
                              optimizer=SGD(lr=0.1), eval_every=10, verbose=0, seed=0)
        except zerodl.TrainingDiverged as exc:    # the loss overflowed: say so, keep going
            h, label = exc.history, label + " (diverged)"
        steps, accuracy = h.steps.get("step", []), h.steps.get("accuracy", [])
        ax.plot(np.array(steps) / 10, accuracy, style, label=label)
        finished = len(steps) and steps[-1] == 10 * speed_epochs
        finals[(std, bn)] = accuracy[-1] if finished else np.nan
    ax.set_title(f"initial std {std}"); ax.grid(alpha=0.3); ax.set_ylim(0, 1)
    ax.legend(loc="best", fontsize=8)
for ax in axes[-len(scales) // n_rows:]:
    ax.set_xlabel("epoch")
axes[0].set_ylabel("training accuracy")
fig.suptitle("784-100x5-10 on 1000 images: batch normalisation learns at every initial scale")
fig.tight_layout(); plt.show()
for std in scales:
    print(f"std {std:<6} accuracy after {speed_epochs} epochs: with BN {finals[(std, True)]:.3f}, "
          f"without {finals[(std, False)]:.3f}")          # nan: diverged
assert all(finals[(s, True)] > np.nan_to_num(finals[(s, False)]) for s in scales)
"""),
    ("md", r"""
BN なしでは、初期値が大きすぎても（出力が爆発し、損失が溢れて学習が止まる＝diverged）
小さすぎても（信号が消える）学習が始まりません。
ちょうどよい初期値（He なら $\sqrt{2/100} \approx 0.14$）の近くでしか速く学習しません。BN ありでは、
どの初期値でも学習が進みます（標準偏差 1.0 では少し遅めです：BN の出力は $W$ の大きさによらないので、
$W$ が大きいほど $\partial E / \partial W$ は相対的に小さくなります）。初期値への依存が小さく、
大きめの学習率も使えるのがバッチ正規化の利点です。

Without BN, training does not start when the initial weights are too large (the outputs blow
up until the loss overflows: "diverged") or too small (the signal fades): only scales near
the right one (He: $\sqrt{2/100} \approx 0.14$) learn fast. With BN every scale learns (std
1.0 more slowly: BN's output does not depend on the scale of $W$, so the larger $W$, the
smaller $\partial E / \partial W$ is relative to it). Less dependence on the initialisation,
and room for larger learning rates, are what batch normalisation buys.

## 試してみよう / Try it

- 2〜3 節で `train_deep(weight_decay=0.3)` や `train_deep(dropout=0.5)`：効きすぎると訓練データの正解率も下がります（未学習）。
- 1 節で訓練データを 3000 枚に（`x_train[:3000]`）：差は大きく縮みます。データを増やすのが一番の対策です。
- コマンドラインで同じ比較を複数の seed で：`zerodl sweep --preset overfit --plot overfit.png`
  （表に訓練とテストの正解率の差 gap の列が出ます）。
- `zerodl train --layers 784-100-100-100-10 --batch-norm --dropout 0.2 --weight-decay 0.01`

- In sections 2-3, try `train_deep(weight_decay=0.3)` or `train_deep(dropout=0.5)`: too much of
  either lowers the training accuracy too (underfitting).
- In section 1, train on 3000 images (`x_train[:3000]`): the gap shrinks a lot. More data is
  the best cure.
- The same comparison with several seeds on the command line: `zerodl sweep --preset overfit
  --plot overfit.png` (its table has a column for the gap between training and test accuracy).
- `zerodl train --layers 784-100-100-100-10 --batch-norm --dropout 0.2 --weight-decay 0.01`

## 確認テスト / Check questions

**シグモイド関数を微分したとき、入力が 0 のときに最大値をとる。その値は？** $f'(u) = f(u)(1 - f(u))$
で、$f(0) = 0.5$ なので $0.5 \times 0.5 = 0.25$。1 層戻るごとに勾配は多くとも 1/4 になります（4 節）。

**The sigmoid's derivative is largest at input 0. What is its value?** $f'(u) = f(u)(1 - f(u))$
and $f(0) = 0.5$, so $0.25$: each layer backpropagation goes through multiplies the gradient by
at most a quarter (section 4).
"""),
    ("code", r"""
u = np.linspace(-6, 6, 1201)
print("max of d_sigmoid:", F.d_sigmoid(u).max(), "at u =", u[F.d_sigmoid(u).argmax()])
assert np.isclose(F.d_sigmoid(0.0), 0.25)
"""),
    ("md", r"""
**重みの初期値を 0 にすると、どんな問題が起きるか？** どのユニットも同じ値を出し、同じ勾配を受け取るので、
重みが同じまま更新され続けます。何個ユニットを並べても 1 個分の働きしかしません（ノート 1 で確かめました）。
ReLU ではさらに、総入力がすべて 0 なので $f'(0) = 0$ となり、中間層の勾配が 0 のまま学習が始まりません。

**What goes wrong with all initial weights 0?** Every unit outputs the same value and receives
the same gradient, so the weights stay equal forever: many units act as one (notebook 1 shows
it). With ReLU it is worse: every total input is 0, $f'(0) = 0$, and the hidden layers get no
gradient at all.
"""),
    ("code", r"""
zero = zerodl.mlp([784, 100, 100, 10], init="zeros", seed=0)
zero.fit(x_small, d_small, epochs=3, batch_size=100, optimizer=SGD(lr=0.1), verbose=0, seed=0)
for key, value in zero.params.items():       # only the output layer's bias can move
    print(f"{key} after 3 epochs: {'all zero' if not value.any() else 'changed'}")
assert not zero.params["W1"].any() and not zero.params["W2"].any()
"""),
    ("md", r"""
**バッチ正規化の効果を 2 つ挙げよ。** (1) 中間層の総入力の分布がそろうので勾配が安定し、学習が速くなる
（初期値や学習率にも左右されにくい、5 節）。(2) ミニバッチごとの統計のゆらぎが雑音として働き、過学習を
抑える。

**Name two effects of batch normalisation.** (1) The hidden total inputs keep a steady
distribution, so the gradients stay healthy and learning is faster, and less sensitive to the
initialisation and the learning rate (section 5). (2) The mini-batch statistics jitter from
batch to batch, a noise that curbs overfitting.
"""),
]
