"""Where a training run stands, and how many steps make an epoch: the one home of both."""
from __future__ import annotations

import math

import numpy as np


def steps_per_epoch(n_samples: int, batch_size: int) -> int:
    """Batches in one pass over ``n_samples``: ``ceil(n / batch)``, the last one shorter (a
    batch larger than the data is the whole data)."""
    return math.ceil(n_samples / min(batch_size, n_samples))


class Progress:
    """Where a run stands; a checkpoint stores exactly this (see ``zerodl.checkpoint``).

    ``batches``: batches finished in the current epoch; ``loss_sum``, ``correct``, ``seen``:
    its running sums; ``epoch_rng``: the generator's state before this epoch's order.
    """

    def __init__(self, rng: np.random.Generator, n_samples: int, batch_size: int) -> None:
        self.rng, self.n_samples, self.batch_size = rng, n_samples, batch_size
        self.epoch = self.step = self.batches = 0
        self.loss_sum, self.correct, self.seen = 0.0, 0, 0
        self.epoch_rng = rng.bit_generator.state
        self.resumed_batches = 0    # an interrupted epoch read from a checkpoint: skip these

    def resume(self, progress: dict) -> None:
        self.step, self.epoch = progress["step"], progress["epoch"]
        if progress["batches"]:            # an interrupted epoch: run it again from there
            self.epoch -= 1
            self.resumed_batches = progress["batches"]
            self.loss_sum, self.correct, self.seen = (progress["loss_sum"], progress["correct"],
                                                      progress["seen"])

    def start_epoch(self) -> None:
        self.epoch_rng = self.rng.bit_generator.state
        if not self.resumed_batches:
            self.loss_sum, self.correct, self.seen = 0.0, 0, 0
        self.batches, self.resumed_batches = self.resumed_batches, 0

    def progress(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "batches": self.batches,
                "loss_sum": self.loss_sum, "correct": self.correct, "seen": self.seen,
                "n_samples": self.n_samples, "batch_size": self.batch_size}
