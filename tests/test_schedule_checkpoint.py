"""A learning-rate schedule travels in the checkpoint: resuming equals a straight run."""
import numpy as np
import pytest

from zerodl import mlp
from zerodl.optimizers import Adam
from zerodl.schedules import CosineAnnealing, ReduceOnPlateau, StepDecay

RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 5)).astype(np.float32)
D = (X[:, 0] + X[:, 1] > 0).astype(int)


@pytest.mark.parametrize("make_schedule", [
    lambda: StepDecay(step_size=1, gamma=0.5),
    lambda: CosineAnnealing(epochs=4, warmup_epochs=1),   # the run's length, as when killed
    lambda: ReduceOnPlateau(factor=0.5, patience=0, threshold=0.5),
])
def test_resume_with_schedule_is_bit_identical(tmp_path, make_schedule):
    fit = dict(batch_size=16, verbose=0, seed=3, validation_data=(X[:20], D[:20]))
    straight = mlp([5, 7, 2], seed=1)
    h_straight = straight.fit(X, D, epochs=4, optimizer=Adam(lr=0.05),
                              lr_schedule=make_schedule(), **fit)

    path = tmp_path / "ck.npz"
    first = mlp([5, 7, 2], seed=1)
    first.fit(X, D, epochs=2, optimizer=Adam(lr=0.05), lr_schedule=make_schedule(),
              checkpoint=path, **fit)
    resumed = mlp([5, 7, 2], seed=99)            # other weights: the checkpoint must win
    h_resumed = resumed.fit(X, D, epochs=4, optimizer=Adam(lr=0.05),
                            lr_schedule=make_schedule(), resume=path, **fit)

    for key in straight.params:
        np.testing.assert_array_equal(resumed.params[key], straight.params[key])
    assert h_resumed.history == h_straight.history
    assert len(set(h_straight.history["lr"])) > 1          # the schedule did change the rate
