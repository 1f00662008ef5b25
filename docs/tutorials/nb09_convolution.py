"""Notebook 9 (the book's chapters 7 and 8): convolutional networks, as data that build.py
reads.

``TITLE`` (Japanese, English), ``INTRO`` and ``CELLS``; build.py puts its usual header (the
setup cell) in front, as for notebook 8.
"""

TITLE = ("9. 畳み込みニューラルネットワーク", "9. Convolutional neural networks")

INTRO = r"""
全結合層は画像を 784 個の数の並びとして扱い、どの画素が隣り合っているかを使いません。
**畳み込み層** は小さなフィルター（例えば 5×5 の重み）を画像の上で滑らせ、どの位置でも同じ重みで
局所的な形を探します。**プーリング層** は小さな領域をまとめて縮めます。このノートでは畳み込みを
手で計算し、im2col が何を並べ直すのかを見て、プーリングを確かめ、書籍の SimpleConvNet を MNIST の
一部で学習させ、1 層目のフィルターが何を学んだかを描きます。

A fully connected layer sees an image as a row of 784 numbers and ignores which pixels are
neighbours. A **convolution** slides a small filter (say 5×5 weights) over the image and looks
for the same local shape everywhere with the same weights; a **pooling** layer shrinks small
regions into one value. This notebook computes a convolution by hand, looks at what im2col
unrolls, checks pooling, trains the book's SimpleConvNet on part of MNIST, and draws what the
first layer's filters learned.
"""

#: The cells after the header: ("md", text) or ("code", text).
CELLS = [
    ("md", r"""
## 1. 畳み込みを手で計算する / A convolution by hand

4×4 の入力に 3×3 のフィルターを重ね、重なった 9 個の積を足すと出力の 1 つの値になります。
フィルターを 1 つずつずらすと、出力は $(4 - 3)/1 + 1 = 2$ で 2×2 です。一般に、入力の高さ $H$、
フィルターの高さ $F_H$、パディング $P$、ストライド $S$ のとき、出力の高さは
$OH = (H + 2P - F_H)/S + 1$ です。

Lay a 3×3 filter on a 4×4 input, multiply the 9 overlapping pairs and add them up: that is one
output value. Moving the filter one step at a time gives a 2×2 output, $(4 - 3)/1 + 1 = 2$. In
general, for an input of height $H$, a filter of height $F_H$, padding $P$ and stride $S$, the
output height is $OH = (H + 2P - F_H)/S + 1$.
"""),
    ("code", r"""
image = np.array([[1, 2, 3, 0],
                  [0, 1, 2, 3],
                  [3, 0, 1, 2],
                  [2, 3, 0, 1]], dtype=float)
kernel = np.array([[2, 0, 1],
                   [0, 1, 2],
                   [1, 0, 2]], dtype=float)

def convolve(image, kernel, stride=1):
    fh, fw = kernel.shape
    oh = (image.shape[0] - fh) // stride + 1
    ow = (image.shape[1] - fw) // stride + 1
    out = np.zeros((oh, ow))
    for y in range(oh):
        for x in range(ow):
            window = image[y * stride:y * stride + fh, x * stride:x * stride + fw]
            out[y, x] = np.sum(window * kernel)      # 重なった積の和 / sum of the products
    return out

by_hand = convolve(image, kernel)
print(by_hand)                 # [[15. 16.] [ 6. 15.]]
"""),
    ("md", r"""
zerodl の `Conv2D` は画像をバッチ・チャネル・高さ・幅の 4 次元 `(N, C, H, W)` で受け取り、
フィルターを `W` の形 `(出力チャネル, 入力チャネル, FH, FW)` で持ちます。同じフィルターを入れると
同じ値が出ます。パディング 1 では出力が 4×4 に、ストライド 3（パディング 1）では 2×2 になります。
ストライド 2（パディング 1）では $OH = (4 + 2 - 3)/2 + 1 = 2.5$ が整数にならないので、zerodl は
理由を書いたエラーで断ります（最後の列が使われずに残るからです）。

zerodl's `Conv2D` takes images as 4-D `(N, C, H, W)` arrays (batch, channels, height, width) and
holds its filters in `W` of shape `(out_channels, in_channels, FH, FW)`. With the same filter it
gives the same values; padding 1 keeps the 4×4 size, stride 3 (with padding 1) gives 2×2.
Stride 2 with padding 1 would give $OH = (4 + 2 - 3)/2 + 1 = 2.5$, not a whole number: zerodl
refuses it with a message that says why (the last column would be left out).
"""),
    ("code", r"""
from zerodl.layers import Conv2D, MaxPool2D, AvgPool2D

x = image[None, None]                        # (N, C, H, W) = (1, 1, 4, 4)
for padding, stride in ((0, 1), (1, 1), (1, 3)):
    conv = Conv2D(1, 1, 3, stride=stride, padding=padding, dtype=np.float64)
    conv.W[...] = kernel                     # our filter; the bias b stays 0
    y = conv.forward(x)
    oh = (4 + 2 * padding - 3) // stride + 1
    print(f"padding {padding}, stride {stride}: output {y.shape[2:]} (formula: {oh}x{oh})")
    print(y[0, 0])
try:
    Conv2D(1, 1, 3, stride=2, padding=1).forward(x)
except ValueError as error:
    print("stride 2, padding 1:", error)
"""),
    ("md", r"""
## 2. im2col：窓を行列の行に並べる / im2col: every window becomes a row

ループで窓を 1 つずつ処理すると遅いので、**im2col** は全部の窓を 1 つの行列に並べ直します。
窓 1 つが 1 行（3×3 のフィルターなら 9 個の数）になり、フィルターを 1 列に伸ばせば、畳み込み全体が
行列の積 1 回になります。値が 0〜15 の 4×4 の画像で見てみましょう。

A loop over windows is slow, so **im2col** lays every window out as one row of a matrix
(9 numbers for a 3×3 filter). With the filter stretched into a column, the whole convolution
becomes one matrix product. Here it is on a 4×4 image holding 0 to 15.
"""),
    ("code", r"""
from zerodl.functions import im2col, col2im

numbered = np.arange(16, dtype=float).reshape(1, 1, 4, 4)
col = im2col(numbered, 3, 3, stride=1, pad=0)
print("image:\n", numbered[0, 0])
print("im2col, shape", col.shape, "(4 windows x 9 values):\n", col)

fig, axes = plt.subplots(1, 5, figsize=(12, 2.6))
for k, ax in enumerate(axes[:4]):
    y0, x0 = divmod(k, 2)
    ax.imshow(numbered[0, 0], cmap="Blues", vmin=-8, vmax=20)
    ax.add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), 3, 3, fill=False, lw=3, color="tab:red"))
    for (i, j), v in np.ndenumerate(numbered[0, 0]):
        ax.text(j, i, int(v), ha="center", va="center", fontsize=8)
    ax.set_title(f"window {k} -> row {k}", fontsize=9); ax.set_axis_off()
axes[4].imshow(col, cmap="Blues", vmin=-8, vmax=20)
for (i, j), v in np.ndenumerate(col):
    axes[4].text(j, i, int(v), ha="center", va="center", fontsize=7)
axes[4].set_title("im2col: one row per window", fontsize=9); axes[4].set_axis_off()
plt.show()

# 畳み込み = im2col の行列 x 伸ばしたフィルター / convolution = im2col matrix @ flat filter
print((im2col(x, 3, 3) @ kernel.reshape(-1)).reshape(2, 2))
"""),
    ("md", r"""
逆伝播では **col2im** が逆向きに働きます。各行の値を元の画素に書き戻し、複数の窓に属する画素では
足し合わせます。すべて 1 の行列を戻すと、各画素がいくつの窓に入っていたかが分かります
（中央の 4 画素は 4 つの窓すべてに入っています）。im2col は各画素を最大 $F_H F_W$ 回複製するので、
5×5 のフィルターなら入力の 25 倍近いメモリを使います。

Backward, **col2im** goes the other way: each value of a row goes back onto its pixel, and a
pixel that belongs to several windows adds them up. Sending back a matrix of ones counts how many
windows each pixel was in (the middle four are in all four). im2col copies each pixel up to
$F_H F_W$ times: for a 5×5 filter, almost 25 times the input's memory.
"""),
    ("code", r"""
print(col2im(np.ones_like(col), numbered.shape, 3, 3)[0, 0])
"""),
    ("md", r"""
## 3. プーリング / Pooling

2×2 の Max プーリング（ストライド 2）は各 2×2 の領域の最大値を、Average プーリングは平均を取ります。
学習するパラメータはなく、チャネル数は変わりません。Max プーリングの逆伝播は、勾配を最大だった
画素にだけ流します。

2×2 max pooling with stride 2 keeps the largest value of each 2×2 region; average pooling
keeps the mean. There is nothing to learn and the channels stay as they are. Backward, max
pooling sends the gradient only to the pixel that was the maximum.
"""),
    ("code", r"""
pool_in = np.array([[1, 2, 1, 0],
                    [0, 1, 2, 3],
                    [3, 0, 1, 2],
                    [2, 4, 0, 1]], dtype=float)[None, None]
max_pool, avg_pool = MaxPool2D(2), AvgPool2D(2)
print("max:\n", max_pool.forward(pool_in)[0, 0])
print("average:\n", avg_pool.forward(pool_in)[0, 0])
print("max pooling's dx for dy = 1 everywhere:\n", max_pool.backward(np.ones((1, 1, 2, 2)))[0, 0])
"""),
    ("md", r"""
## 4. SimpleConvNet を学習させる / Training SimpleConvNet

書籍 7 章のネットワーク：畳み込み（5×5 のフィルター 30 枚）→ ReLU → 2×2 Max プーリング →
全結合 100 → ReLU → 全結合 10 → ソフトマックス。`zerodl.simple_convnet` が作ります。重みの初期値は
書籍と同じ標準偏差 0.01、学習は書籍と同じ Adam（学習率 0.001）、バッチ 100 です。画像は
`load_mnist(flatten=False)` で `(N, 1, 28, 28)` の形で読み込みます。ここでは時間を節約するため
訓練データの一部を使います（10000 枚で 2 エポックなら約 90%。全 60000 枚では 1 エポックで約 97%、
5 エポックで約 98.7% になります）。

The book's chapter-7 network: convolution (30 filters of 5×5) → ReLU → 2×2 max pooling → Dense
100 → ReLU → Dense 10 → softmax, built by `zerodl.simple_convnet`. Initial weights with the
book's standard deviation 0.01, trained as the book does with Adam (learning rate 0.001) and
batches of 100. `load_mnist(flatten=False)` gives the images as `(N, 1, 28, 28)`. To save time
we train on part of the training set (10,000 images for 2 epochs give about 90%; all 60,000
images give about 97% after one epoch and about 98.7% after five).
"""),
    ("code", r"""
from zerodl.datasets import load_mnist
from zerodl.optimizers import Adam

(x_train, d_train), (x_test, d_test) = load_mnist(flatten=False)
N_TRAIN, EPOCHS, EVAL_EVERY = (1000, 1, 5) if FAST else (10000, 2, 50)
x_train, d_train, x_test, d_test = x_train[:N_TRAIN], d_train[:N_TRAIN], x_test[:2000], d_test[:2000]
print("images:", x_train.shape)

net = zerodl.simple_convnet(seed=0)
net.summary()
filters_before = net.params["W1"].copy()       # (30, 1, 5, 5): the first layer's filters
history = net.fit(x_train, d_train, epochs=EPOCHS, batch_size=100, optimizer=Adam(lr=0.001),
                  validation_data=(x_test, d_test), eval_every=EVAL_EVERY, seed=0, verbose=0)
print(f"test accuracy {net.evaluate(x_test, d_test)['accuracy']:.4f} "
      f"on {len(x_test)} test images after {EPOCHS} epoch(s) of {N_TRAIN} images")
display(zerodl.plot_history(history))
"""),
    ("md", r"""
## 5. 学習したフィルター / The filters it learned

1 層目の 30 枚のフィルターを 5×5 の画像として並べます（白が大きい重み、黒が小さい重み。フィルター
ごとに最小〜最大を黒〜白にしています）。学習前はランダムな模様ですが、学習後は縦・横・斜めの縁
（明るいところと暗いところの境目）に反応する形が現れます。学習を長くするほどはっきりします。

The first layer's 30 filters as 5×5 images (white: the largest weight, black: the smallest,
scaled per filter). Before training they are random noise; after training, shapes appear that
respond to edges, the border between light and dark, in some direction. Longer training makes
them clearer.
"""),
    ("code", r"""
from zerodl.tools.conv_views import plot_filters, plot_feature_maps

display(plot_filters([filters_before, net.params["W1"]], ["before training", "after training"]))
"""),
    ("md", r"""
フィルターが画像の何を取り出すかは、1 枚の画像を通すと分かります。各フィルターの出力（特徴マップ）
は、そのフィルターの形が画像のどこにあるかを明るさで示します。

What each filter picks out of an image shows when one image goes through: each filter's output
(its feature map) is bright where the filter's shape is in the image.
"""),
    ("code", r"""
display(plot_feature_maps(net, x_test[0]))
"""),
    ("md", r"""
## 6. もっと深く / Going deeper

書籍 8 章の DeepConvNet（3×3 の畳み込み 6 層、He の初期値、Dropout）は `zerodl.deep_convnet` で
作れます。99% を超えますが、この CPU の NumPy では 1 エポックに数分かかります。コマンドラインからも
同じことができます。

The book's chapter-8 DeepConvNet (six 3×3 convolutions, He initialisation, dropout) is
`zerodl.deep_convnet`; it passes 99%, but an epoch takes minutes with NumPy on a laptop's CPU.
The same from the command line:

    zerodl train --arch simple-cnn --optimizer adam --lr 0.001 --epochs 3 --save cnn.npz
    zerodl show filters --model cnn.npz
    zerodl show feature-maps --model cnn.npz
    zerodl train --arch deep-cnn --optimizer adam --lr 0.001 --epochs 1

試してみましょう / Try:
- フィルターの数を 30 から 10 に減らす：`zerodl.simple_convnet(filters=10)`。精度と見た目は？ /
  Fewer filters: `zerodl.simple_convnet(filters=10)`. What happens to the accuracy and the filters?
- 3×3 のフィルター：`simple_convnet(kernel_size=3)`。出力の大きさの式で 1 層目の出力を予想してから
  `net.summary()` で確かめる / 3×3 filters: predict the first layer's output size with the formula,
  then check with `net.summary()`.
"""),
]
