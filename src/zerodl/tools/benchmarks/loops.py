"""The benchmark's other contenders: a plain NumPy training loop and the same loop in PyTorch.

Both train a ReLU MLP with a softmax cross-entropy output from given weights, with SGD or
Adam, on the batches ``fit(seed=...)`` draws (one ``default_rng(seed).permutation`` per
epoch), so that after the same number of steps they hold the weights ``fit`` holds.

Each ``*_loop`` function does its setup and returns ``(train, state)``: ``train()`` runs the
steps (the part a benchmark times) and ``state`` is what it trains, to inspect afterwards.
"""
from __future__ import annotations

import numpy as np

F32 = np.float32
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8


def initial_weights(sizes: list[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-initialised float32 weights and zero biases, the one start of every contender."""
    rng = np.random.default_rng(seed)
    return [((rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(F32), np.zeros(b, F32))
            for a, b in zip(sizes, sizes[1:])]


# -- PyTorch --------------------------------------------------------------------------------
def torch_mlp(weights, between=None):
    """``torch.nn.Sequential`` of Linear layers holding ``weights``; after each hidden one
    the modules ``between(n_out)`` returns (default: a ReLU)."""
    import torch        # optional: only the torch contender needs it

    between = between or (lambda n_out: [torch.nn.ReLU()])
    layers = []
    for i, (W, b) in enumerate(weights):
        linear = torch.nn.Linear(W.shape[0], W.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers += between(W.shape[1])
    return torch.nn.Sequential(*layers)


def torch_loop(x, d, sizes, batch, opt, lr, steps, weights, seed):
    """PyTorch eager: ``(train, net)``; ``train()`` runs ``steps`` optimizer steps."""
    import torch

    net = torch_mlp(weights)
    if opt == "sgd":
        optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    else:
        optimizer = torch.optim.Adam(net.parameters(), lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS)
    return torch_training(net, optimizer, x, d, batch, steps, seed), net


def torch_training(net, optimizer, x, d, batch: int, steps: int, seed: int):
    """``train()``: ``steps`` steps of ``net`` with ``optimizer`` and cross-entropy, on the
    batches ``fit(seed=seed)`` draws (one ``default_rng(seed).permutation`` per epoch)."""
    import torch

    xt, dt = torch.from_numpy(x), torch.from_numpy(np.asarray(d).astype(np.int64))
    loss_fn = torch.nn.functional.cross_entropy

    def train():
        rng = np.random.default_rng(seed)
        step = 0
        while step < steps:
            order = torch.from_numpy(rng.permutation(len(x)))
            for start in range(0, len(x), batch):
                if step == steps:
                    break
                idx = order[start:start + batch]
                loss = loss_fn(net(xt[idx]), dt[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1

    return train


def torch_predict(net, x):
    """Softmax probabilities of ``net`` on the torch tensor ``x``, as a NumPy array."""
    import torch

    with torch.no_grad():
        return torch.softmax(net(x), dim=1).numpy()


# -- plain NumPy ----------------------------------------------------------------------------
def adam_update(p, g, m, v, tmp, lr, t):
    """Adam (Kingma and Ba, 2015) in place, with ``eps`` added to ``sqrt(v_hat)`` as PyTorch.

    ``m += (1-b1)(g-m)``, ``v += (1-b2)(g*g-v)``, ``p -= lr_t m / (sqrt(v) + eps_t)`` where
    ``lr_t = lr sqrt(1-b2^t)/(1-b1^t)`` and ``eps_t = eps sqrt(1-b2^t)`` fold in the bias
    corrections without extra arrays.
    """
    b1, b2 = ADAM_BETAS
    c2 = np.sqrt(1 - b2**t)
    np.subtract(g, m, out=tmp)
    tmp *= F32(1 - b1)
    m += tmp
    np.multiply(g, g, out=tmp)
    tmp -= v
    tmp *= F32(1 - b2)
    v += tmp
    np.sqrt(v, out=tmp)
    tmp += F32(ADAM_EPS * c2)
    np.divide(m, tmp, out=tmp)
    tmp *= F32(lr * c2 / (1 - b1**t))
    p -= tmp


def plain_loop(x, d, sizes, batch, opt, lr, steps, weights, seed):
    """ReLU MLP + softmax cross-entropy, float32, buffers allocated once, one gather a batch.

    Returns ``(train, (Ws, bs))``; ``train()`` runs ``steps`` steps on the lists of weight
    and bias arrays in place and returns the sum of the batch losses.
    """
    Ws = [W.copy() for W, _ in weights]
    bs = [b.copy() for _, b in weights]
    params = Ws + bs
    grads = [np.empty_like(p) for p in params]
    gWs, gbs = grads[:len(Ws)], grads[len(Ws):]
    if opt == "adam":
        state = [(np.zeros_like(p), np.zeros_like(p), np.empty_like(p)) for p in params]
    n = len(x)
    cache = {}

    def buffers(m):              # per batch size: the last batch of an epoch may be smaller
        if m not in cache:
            cache[m] = (np.empty((m, sizes[0]), F32), [np.empty((m, k), F32) for k in sizes[1:]],
                        [np.empty((m, k), F32) for k in sizes[1:-1]],
                        [np.empty((m, k), bool) for k in sizes[1:-1]],
                        np.empty((m, 1), F32), np.arange(m))
        return cache[m]

    def train():
        rng = np.random.default_rng(seed)
        step, t, loss_sum = 0, 0, 0.0
        while step < steps:
            order = rng.permutation(n)
            for start in range(0, n, batch):
                if step == steps:
                    break
                idx = order[start:start + batch]
                m = len(idx)
                xb = buffers(m)[0]
                np.take(x, idx, axis=0, out=xb)
                loss_sum += _plain_gradients(xb, d[idx], Ws, bs, gWs, gbs, buffers(m))
                t += 1
                if opt == "sgd":
                    for p, g in zip(params, grads):
                        g *= F32(lr)
                        p -= g
                else:
                    for p, g, (m1, v, tmp) in zip(params, grads, state):
                        adam_update(p, g, m1, v, tmp, lr, t)
                step += 1
        return loss_sum

    return train, (Ws, bs)


def _plain_gradients(xb, db, Ws, bs, gWs, gbs, work) -> float:
    """Forward, softmax cross-entropy and backward of one batch into ``gWs``/``gbs``, in the
    preallocated ``work`` arrays; return the batch's summed loss."""
    _, hs, dhs, masks, col, rows = work
    L, m = len(Ws), len(xb)
    a = xb
    for l in range(L):                            # forward
        np.matmul(a, Ws[l], out=hs[l])
        hs[l] += bs[l]
        if l < L - 1:
            np.maximum(hs[l], 0, out=hs[l])
        a = hs[l]
    u = hs[-1]                                    # softmax cross-entropy
    np.max(u, axis=1, keepdims=True, out=col)
    u -= col
    loss = -u[rows, db].sum()
    np.exp(u, out=u)
    np.sum(u, axis=1, keepdims=True, out=col)
    loss += np.log(col).sum()
    u /= col
    u[rows, db] -= 1
    u *= F32(1 / m)
    dy = u
    for l in range(L - 1, -1, -1):                # backward
        a = xb if l == 0 else hs[l - 1]
        np.matmul(a.T, dy, out=gWs[l])
        np.sum(dy, axis=0, out=gbs[l])
        if l > 0:
            np.matmul(dy, Ws[l].T, out=dhs[l - 1])
            np.greater(hs[l - 1], 0, out=masks[l - 1])
            dhs[l - 1] *= masks[l - 1]
            dy = dhs[l - 1]
    return float(loss)


def plain_predict(Ws, bs, x):
    """Softmax probabilities of the ReLU MLP ``(Ws, bs)`` for the rows of ``x``."""
    a = x
    for l, (W, b) in enumerate(zip(Ws, bs)):
        a = a @ W
        a += b
        if l < len(Ws) - 1:
            np.maximum(a, 0, out=a)
    a -= a.max(axis=1, keepdims=True)
    np.exp(a, out=a)
    a /= a.sum(axis=1, keepdims=True)
    return a
