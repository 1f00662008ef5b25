"""The command line's outputs: checked before the work, written even when stdout closes or
SIGTERM arrives, and reported in words that say what happened."""
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import zerodl
import zerodl.cli.app
from zerodl.checkpoint import STATE_KEY
from zerodl.cli import main

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC), "OPENBLAS_NUM_THREADS": "1",
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def zerodl_cmd(*args):
    return [sys.executable, "-m", "zerodl", *map(str, args)]


def tiny_mnist(one_hot_label=False, data_dir=None):
    """300 random 'images': a few milliseconds per run instead of MNIST's seconds."""
    rng = np.random.default_rng(0)
    x = rng.random((400, 784), dtype=np.float32)
    d = rng.integers(0, 10, 400)
    if one_hot_label:
        d = np.eye(10, dtype=np.float32)[d]
    return (x[:300], d[:300]), (x[300:], d[300:])


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(zerodl.cli.app, "load_mnist", tiny_mnist)


@pytest.fixture
def no_data(monkeypatch):
    """Loading the data counts as starting the work: these runs must stop before it."""
    def refuse(**kwargs):
        raise AssertionError("the data was loaded before the outputs were checked")
    monkeypatch.setattr(zerodl.cli.app, "load_mnist", refuse)


def train(tmp_path, *extra):
    return ["train", "--layers", "784-8-10", "--batch-size", "50", "--seed", "1",
            "--plot", str(tmp_path / "c.png"), *map(str, extra)]


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.is_symlink() and os.readlink(p),
                                         p.is_file() and p.read_bytes())
            for p in sorted(folder.rglob("*"))}


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "old.npz").write_bytes(b"the user's old file")
    (tmp_path / "link.npz").symlink_to("sub")
    os.mkfifo(tmp_path / "fifo")
    return tmp_path


@pytest.mark.parametrize("option,value,words", [
    ("--save", "sub", "--save must be a regular file or a new one; got '.*sub', which is a "
                      "folder"),
    ("--save", "missing/m.npz", "--save must be in an existing folder; got '.*missing/m.npz', "
                                "but the folder '.*missing' does not exist"),
    ("--plot", "plots/deep/c.png", "--plot must be in an existing folder; .*the folder "
                                   "'.*plots' does not exist"),
    ("--plot", "fifo", "--plot must be a regular file .*named pipe"),
    ("--checkpoint", "link.npz", "--checkpoint must be a regular file .*a link to .*which is "
                                 "a folder"),
    ("--checkpoint", "old.npz/ck.npz", "--checkpoint must be in an existing folder; .*is a "
                                       "file, not a folder"),
])
def test_train_refuses_bad_outputs_before_loading_data(folder, capsys, no_data, option, value,
                                                       words):
    import re
    before = tree(folder)
    argv = train(folder, "--save", folder / "m.npz")
    argv += [option, str(folder / value)]
    assert main(argv) == 2
    err = one_line(capsys)
    assert re.search(words, err), err
    assert tree(folder) == before


def test_train_refuses_a_read_only_folder_before_loading_data(folder, capsys, no_data,
                                                              monkeypatch):
    class ReadOnly:
        f_flag = os.ST_RDONLY
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != folder)
    monkeypatch.setattr(os, "statvfs", lambda path: ReadOnly())
    before = tree(folder)
    assert main(train(folder, "--save", folder / "m.npz")) == 2
    assert "on a read-only file system" in one_line(capsys)
    assert tree(folder) == before


@pytest.mark.parametrize("argv,words", [
    (["compare-optimizers", "--plot", "{f}/nope/o.png"], "--plot must be in an existing folder"),
    (["sweep", "--grid", "lr=0.1", "--dataset", "xor", "--csv", "{f}/sub"],
     "--csv must be a regular file"),
    (["sweep", "--grid", "lr=0.1", "--dataset", "xor", "--out", "{f}/fifo"],
     "--out must be a regular file"),
    (["bench", "--json", "{f}/sub"], "--json must be a regular file"),
    (["show", "weights", "--out", "{f}/nope/w.png"], "--out must be in an existing folder"),
])
def test_other_commands_check_their_outputs_first(folder, capsys, no_data, argv, words):
    before = tree(folder)
    assert main([a.format(f=folder) for a in argv]) == 2
    assert words in one_line(capsys)
    assert tree(folder) == before


def test_a_write_error_at_the_end_names_each_real_file_and_keeps_the_old_ones(
        folder, capsys, tiny, monkeypatch):
    (folder / "c.png").write_bytes(b"old curves")
    before = tree(folder)
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))
    code = main(train(folder, "--iters", "6", "--quiet", "--save", folder / "old.npz"))
    err = capsys.readouterr().err
    assert code == 2
    lines = err.splitlines()
    assert lines == [f"zerodl train: [Errno 28] could not write {folder / name}: No space left "
                     f"on device; its previous contents are unchanged." for name in
                     ("old.npz", "c.png")], err
    assert tree(folder) == before


class ClosedAfterOneLine:
    """A stdout whose reader goes away after the first line, as ``| head -1``."""

    encoding = "utf-8"

    def __init__(self):
        self.lines = []

    def write(self, text):
        if self.lines:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")
        self.lines.append(text)
        return len(text)

    def flush(self):
        if len(self.lines) > 1:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_a_closed_stdout_does_not_end_the_run(tmp_path, tiny, monkeypatch, capsys):
    stdout = ClosedAfterOneLine()
    monkeypatch.setattr(sys, "stdout", stdout)
    code = main(train(tmp_path, "--iters", "12", "--save", tmp_path / "m.npz"))
    assert code == 0
    assert sys.stdout is stdout and len(stdout.lines) == 1
    assert zerodl.load(tmp_path / "m.npz").n_in == 784
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
    assert "Broken pipe" not in capsys.readouterr().err


def test_piped_into_head_the_run_finishes_quietly(mnist_dir, tmp_path):
    args = ["train", "--layers", "784-16-10", "--iters", "300", "--batch-size", "200",
            "--data-dir", mnist_dir, "--plot", tmp_path / "c.png", "--save", tmp_path / "m.npz"]
    proc = subprocess.Popen(zerodl_cmd(*args), env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()                                 # head -1 exits
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert first.startswith(b"Layer")
    assert "Traceback" not in err and "Broken pipe" not in err and "Exception" not in err
    assert (tmp_path / "m.npz").exists() and (tmp_path / "c.png").exists()


def test_sigterm_writes_everything_exits_143_and_says_how_far_it_got(mnist_dir, tmp_path):
    checkpoint = tmp_path / "ck.npz"
    args = ["train", "--layers", "784-16-10", "--iters", "300000", "--batch-size", "200",
            "--eval-every", "300", "--quiet", "--data-dir", mnist_dir, "--plot",
            tmp_path / "c.png", "--save", tmp_path / "m.npz", "--checkpoint", checkpoint]
    proc = subprocess.Popen(zerodl_cmd(*args), env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 120
    while not checkpoint.exists():                      # training has started
        assert proc.poll() is None and time.monotonic() < end, proc.communicate()
        time.sleep(0.01)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "interrupted by SIGTERM" in err
    with np.load(checkpoint) as data:
        step = json.loads(str(data[STATE_KEY]))["progress"]["step"]
    assert 300 <= step < 300000
    assert f"after an interrupted run: {step:,} of 300,000 iterations" in out, out
    assert zerodl.load(tmp_path / "m.npz") and (tmp_path / "c.png").exists()


def test_resume_says_what_it_trained(tmp_path, tiny, capsys):
    checkpoint = tmp_path / "ck.npz"
    assert main(train(tmp_path, "--iters", "30", "--quiet", "--checkpoint", checkpoint)) == 0
    capsys.readouterr()
    assert main(train(tmp_path, "--iters", "42", "--quiet", "--resume", checkpoint)) == 0
    out, err = capsys.readouterr()
    assert f"after 42 iterations (12 in this run, resumed from {checkpoint})" in out, out
    before = checkpoint.read_bytes()
    # A run asked to end where the checkpoint already is: restored, nothing trained, said so.
    assert main(train(tmp_path, "--iters", "42", "--quiet", "--resume", checkpoint)) == 0
    out, err = capsys.readouterr()
    assert f"after 42 iterations (0 in this run, resumed from {checkpoint})" in out, out
    assert (f"nothing was trained: the checkpoint {checkpoint} already holds 42 iterations and "
            f"this run asks for 42") in err
    # Shorter than the checkpoint: refused in the command line's words, before any change.
    assert main(train(tmp_path, "--iters", "10", "--quiet", "--resume", checkpoint)) == 2
    out, err = capsys.readouterr()
    assert err.strip() == (f"zerodl train: --iters must count the whole run when resuming: "
                           f"{checkpoint} already holds 42 iterations (epoch 7), and --iters 10 "
                           f"asks for 10; nothing was trained or written"), err
    assert checkpoint.read_bytes() == before


def test_evaluate_says_a_checkpoint_is_a_checkpoint(tmp_path, tiny, capsys):
    checkpoint = tmp_path / "ck.npz"
    assert main(train(tmp_path, "--iters", "6", "--quiet", "--checkpoint", checkpoint)) == 0
    capsys.readouterr()
    assert main(["evaluate", str(checkpoint)]) == 2
    err = one_line(capsys)
    assert f"{checkpoint} is a training checkpoint written by fit(checkpoint=...)" in err
    assert f"zerodl train --resume {checkpoint}" in err


def test_trace_on_an_ascii_only_output_prints_english_labels():
    done = subprocess.run(zerodl_cmd("trace"), env={**ENV, "PYTHONIOENCODING": "ascii"},
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("ascii")                   # nothing but ASCII
    assert "weights W1" in out and "dE/du" in out
    assert b"printing the English ones (--lang en)" in done.stderr
    utf8 = subprocess.run(zerodl_cmd("trace"), env={**ENV, "PYTHONIOENCODING": "utf-8"},
                          capture_output=True, timeout=60)
    assert "重み1" in utf8.stdout.decode("utf-8") and not utf8.stderr


@pytest.mark.parametrize("extra,words", [
    (["--save", "{f}/ck.npz", "--checkpoint", "{f}/ck.npz"],
     "--checkpoint must name another file than --save"),
    (["--save", "{f}/c.png"], "--save must name another file than --plot"),
    (["--save", "{f}/sub/m.npz", "--checkpoint", "{f}/link.npz/m.npz"],      # link.npz -> sub
     "--checkpoint must name another file than --save"),
])
def test_train_refuses_two_outputs_on_one_file(folder, capsys, no_data, extra, words):
    before = tree(folder)
    argv = train(folder, *[a.format(f=folder) for a in extra])
    assert main(argv) == 2
    assert words in one_line(capsys)
    assert tree(folder) == before


def test_resume_and_save_on_one_file_is_refused(folder, capsys, no_data):
    (folder / "ck.npz").write_bytes(b"a checkpoint")
    before = tree(folder)
    assert main(train(folder, "--resume", folder / "ck.npz", "--save", folder / "ck.npz")) == 2
    assert "--resume must name another file than --save" in one_line(capsys)
    assert tree(folder) == before


def test_trace_into_a_closed_pipe_finishes_quietly(monkeypatch, capsys):
    stdout = ClosedAfterOneLine()
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["trace", "--lang", "en"]) == 0
    assert sys.stdout is stdout and len(stdout.lines) == 1
    assert capsys.readouterr().err == ""
