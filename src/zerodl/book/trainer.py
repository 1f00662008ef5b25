"""The book's ``common.trainer.Trainer``: mini-batch training of a book-style network."""
from __future__ import annotations

import numpy as np

from ..core._checks import check_int
from .optimizer import SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam

__all__ = ["Trainer"]

_OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": AdaGrad,
               "rmsprop": RMSprop, "adam": Adam}


class Trainer:
    """``Trainer(network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
    optimizer='SGD', optimizer_param={'lr': 0.01}, evaluate_sample_num_per_epoch=None,
    verbose=True, *, seed=None)``; ``train()`` runs ``epochs * train_size / batch`` steps.

    Each step draws a batch with replacement (as the book does), updates ``network.params``
    with the optimizer and appends the batch loss to ``train_loss_list``. At the first step
    of every epoch (steps 0, iter_per_epoch, ...) train and test accuracy, on the first
    ``evaluate_sample_num_per_epoch`` samples if given, are appended to ``train_acc_list``
    and ``test_acc_list``. ``network`` needs ``params``, ``gradient``, ``loss`` and
    ``accuracy``. With ``verbose`` the progress is printed in the book's format, because its
    scripts are read alongside that output. ``seed`` seeds the batch draws.
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs: int = 20,
                 mini_batch_size: int = 100, optimizer: str = "SGD",
                 optimizer_param: dict | None = None,
                 evaluate_sample_num_per_epoch: int | None = None, verbose: bool = True, *,
                 seed=None) -> None:
        self.network = network
        self.verbose = verbose
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.epochs = check_int("epochs", epochs, minimum=0)
        self.batch_size = check_int("mini_batch_size", mini_batch_size, minimum=1)
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        name = str(optimizer).lower()
        if name not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(_OPTIMIZERS)}; "
                             f"got {optimizer!r}.")
        params = {"lr": 0.01} if optimizer_param is None else dict(optimizer_param)
        self.optimizer = _OPTIMIZERS[name](**params)
        self.rng = np.random.default_rng(seed)

        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / self.batch_size, 1)
        self.max_iter = int(self.epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list: list[float] = []
        self.train_acc_list: list[float] = []
        self.test_acc_list: list[float] = []

    def train_step(self) -> None:
        batch = self.rng.integers(0, self.train_size, self.batch_size)
        x_batch, t_batch = self.x_train[batch], self.t_train[batch]
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        if self.verbose:
            print(f"train loss:{loss}")

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            n = self.evaluate_sample_num_per_epoch
            x_tr, t_tr, x_te, t_te = self.x_train, self.t_train, self.x_test, self.t_test
            if n is not None:
                x_tr, t_tr, x_te, t_te = x_tr[:n], t_tr[:n], x_te[:n], t_te[:n]
            train_acc = self.network.accuracy(x_tr, t_tr)
            test_acc = self.network.accuracy(x_te, t_te)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print(f"=== epoch:{self.current_epoch}, train acc:{train_acc}, "
                      f"test acc:{test_acc} ===")
        self.current_iter += 1

    def train(self) -> None:
        for _ in range(self.max_iter):
            self.train_step()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print(f"test acc:{test_acc}")
