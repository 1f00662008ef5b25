"""Forward + backward of BatchNormalization and Dropout(0.5), zerodl beside PyTorch.

One (100, 100) float32 batch, one thread for both (NumPy's elementwise work is single-
threaded; BLAS is capped at 1 and so is torch's intra-op pool). Contenders take turns in a
rotated order for ROUNDS rounds; each figure is the best round's time per forward+backward
pair (other processes only slow a run down).

    PYTHONPATH=src python benchmarks/regularization_layers.py [rounds]
"""
import platform
import sys
import timeit

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from zerodl.dropout import Dropout
from zerodl.normalization import BatchNormalization

SHAPE, RATE = (100, 100), 0.5


def contenders():
    rng = np.random.default_rng(0)
    x = rng.normal(size=SHAPE).astype(np.float32)
    dy = rng.normal(size=SHAPE).astype(np.float32)
    C = SHAPE[1]

    bn = BatchNormalization(n_features=C)
    drop = Dropout(RATE, seed=0)

    tbn = torch.nn.BatchNorm1d(C, momentum=0.1).train()
    xt = torch.from_numpy(x).requires_grad_(True)
    dyt = torch.from_numpy(dy)
    torch.manual_seed(0)

    w, b = tbn.weight.detach(), tbn.bias.detach()
    rm, rv = torch.zeros(C), torch.ones(C)
    xa = torch.from_numpy(x)

    def zerodl_bn():
        bn.forward(x, training=True)
        bn.backward(dy)

    def torch_bn_autograd():
        xt.grad = None
        tbn.zero_grad(set_to_none=True)
        tbn(xt).backward(dyt)

    def torch_bn_aten():
        # the kernels alone, no autograd bookkeeping
        _, mean, invstd = torch.ops.aten.native_batch_norm(xa, w, b, rm, rv, True, 0.1, 1e-5)
        torch.ops.aten.native_batch_norm_backward(dyt, xa, w, rm, rv, mean, invstd, True,
                                                  1e-5, [True, True, True])

    def zerodl_dropout():
        drop.forward(x, training=True)
        drop.backward(dy)

    def torch_dropout_autograd():
        xt.grad = None
        torch.nn.functional.dropout(xt, RATE, training=True).backward(dyt)

    def torch_dropout_aten():
        _, mask = torch.ops.aten.native_dropout(xa, RATE, True)
        torch.ops.aten.native_dropout_backward(dyt, mask, 1.0 / (1.0 - RATE))

    return {
        "BatchNormalization": {"zerodl": zerodl_bn, "torch autograd": torch_bn_autograd,
                               "torch aten kernels": torch_bn_aten},
        "Dropout(0.5)": {"zerodl": zerodl_dropout, "torch autograd": torch_dropout_autograd,
                         "torch aten kernels": torch_dropout_aten},
    }


def best_times(funcs, rounds, number=2000):
    names = list(funcs)
    for f in funcs.values():
        f()                                     # warm up
    best = dict.fromkeys(names, float("inf"))
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            t = timeit.timeit(funcs[name], number=number) / number
            best[name] = min(best[name], t)
    return best


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    torch.set_num_threads(1)
    with threadpool_limits(1):
        print(f"{platform.processor() or platform.machine()}; Python {platform.python_version()}, "
              f"NumPy {np.__version__}, PyTorch {torch.__version__}; 1 thread each; "
              f"(100, 100) float32; best of {rounds} rounds")
        print(f"| layer | contender | forward+backward (us) | / zerodl |")
        print("|---|---|---:|---:|")
        for layer, funcs in contenders().items():
            best = best_times(funcs, rounds)
            for name, t in best.items():
                print(f"| {layer} | {name} | {t * 1e6:.1f} | {t / best['zerodl']:.2f} |")


if __name__ == "__main__":
    main()
