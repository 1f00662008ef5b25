"""The command line under stress: user errors, divergence, Ctrl-C and SIGKILL with resume."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import zerodl
from zerodl.checkpoint import STATE_KEY
from zerodl.cli import main

SRC = Path(__file__).resolve().parents[1] / "src"
# One BLAS thread: the same arithmetic in every run, and much faster on 2 shared cores.
ENV = {**os.environ, "PYTHONPATH": str(SRC), "OPENBLAS_NUM_THREADS": "1",
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def zerodl_cmd(*args):
    return [sys.executable, "-m", "zerodl", *map(str, args)]


def train_args(mnist_dir, out: Path, name: str):
    # 4 epochs of 300 batches, a point of the curves per epoch: about 1.5 s of training.
    return ["train", "--layers", "784-16-10", "--epochs", "4", "--batch-size", "200",
            "--eval-every", "300", "--seed", "3", "--quiet", "--data-dir", mnist_dir,
            "--plot", out / f"{name}.png", "--save", out / f"{name}.npz"]


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, f"{path} was not written"
        time.sleep(0.01)


def same_weights(a: Path, b: Path) -> bool:
    first, second = zerodl.load(a), zerodl.load(b)
    return all(np.array_equal(first.params[k], second.params[k]) for k in first.params)


@pytest.fixture(scope="module")
def reference(mnist_dir, tmp_path_factory):
    """An uninterrupted run: the weights every interrupted and resumed run must match."""
    out = tmp_path_factory.mktemp("reference")
    done = subprocess.run(zerodl_cmd(*train_args(mnist_dir, out, "ref")), env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out / "ref.npz"


def test_sigkill_at_a_random_moment_then_resume_is_bit_identical(mnist_dir, tmp_path, reference):
    checkpoint = tmp_path / "ck.npz"
    args = train_args(mnist_dir, tmp_path, "run") + ["--checkpoint", checkpoint]
    proc = subprocess.Popen(zerodl_cmd(*args), env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    wait_for(checkpoint, proc)                              # end of epoch 1
    first, seen_at = checkpoint.stat().st_ino, time.monotonic()
    while checkpoint.stat().st_ino == first:                # end of epoch 2: a new file
        assert proc.poll() is None, proc.communicate()      # replaced the old one
        time.sleep(0.005)
    epoch_seconds = time.monotonic() - seen_at
    delay = random.Random().uniform(0.0, epoch_seconds)     # somewhere in epoch 3
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with np.load(checkpoint) as data:                       # the last checkpoint survived
        step = json.loads(str(data[STATE_KEY]))["progress"]["step"]
    assert step in (600, 900), step                         # killed before the run's end
    assert not (tmp_path / "run.npz").exists()
    done = subprocess.run(zerodl_cmd(*args, "--resume", checkpoint), env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert same_weights(tmp_path / "run.npz", reference), f"killed {delay:.2f} s in"


def test_ctrl_c_writes_everything_exits_130_and_resumes_bit_identical(mnist_dir, tmp_path,
                                                                      reference):
    checkpoint = tmp_path / "ck.npz"
    args = train_args(mnist_dir, tmp_path, "run") + ["--checkpoint", checkpoint]
    proc = subprocess.Popen(zerodl_cmd(*args), env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for(checkpoint, proc)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert (tmp_path / "run.png").exists() and (tmp_path / "run.npz").exists()
    assert not same_weights(tmp_path / "run.npz", reference)      # it did stop early
    done = subprocess.run(zerodl_cmd(*args, "--resume", checkpoint), env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert same_weights(tmp_path / "run.npz", reference)


def test_user_error_exits_2_with_one_line_and_no_traceback():
    done = subprocess.run(zerodl_cmd("train", "--batch-size", "0"), env=ENV,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "--batch-size: batch_size must be an integer >= 1; got 0." in done.stderr


@pytest.mark.parametrize("argv,message", [
    (["train", "--lr", "fast"],
     r"argument --lr: lr must be a number in \(0.0, inf\) or None; got 'fast'"),
    (["train", "--layers", "784-16"], r"layers must go from 784 inputs to 10 outputs .* got 784-16"),
    (["train", "--layers", "28-16-10"], r"layers must go from 784 inputs"),
    (["train", "--activation", "step"], r"activation must not be 'step' with hidden layers"),
    (["train", "--optimizer", "adamax"], r"optimizer must be one of sgd, .*; got 'adamax'"),
    (["train", "--resume", "/nonexistent/ck.npz", "--data-dir", "/nonexistent/mnist"],
     r"/nonexistent"),
    (["evaluate", "/nonexistent/model.npz"], r"model file not found: /nonexistent/model.npz"),
    (["gradcheck", "--layers", "5-x-3"], r"argument --layers: layers must be sizes joined by '-'"),
])
def test_user_errors_in_process(capsys, argv, message):
    import re
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(message, err), err


def test_damaged_model_file_is_refused_naming_it(tmp_path, capsys):
    path = tmp_path / "model.npz"
    path.write_bytes(b"PK\x03\x04 half a download")
    assert main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path} is not a valid zerodl model file" in err and err.count("\n") == 1


def test_debug_shows_the_traceback():
    with pytest.raises(FileNotFoundError):
        main(["--debug", "evaluate", "/nonexistent/model.npz"])


def test_divergence_exits_1_with_advice(mnist_dir, capsys, tmp_path):
    with np.errstate(all="ignore"):
        code = main(["train", "--layers", "784-16-10", "--output", "identity", "--lr", "1e6",
                     "--iters", "20", "--eval-every", "1000", "--quiet",
                     "--data-dir", str(mnist_dir), "--plot", str(tmp_path / "p.png")])
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.count("\n") == 1
    assert "training diverged at epoch 1, step" in err and "smaller learning rate" in err
