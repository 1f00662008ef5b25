"""Sweeps: checked configs, pure runs, resumable JSON lines, Dask execution, table and plot."""
import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import zerodl
from zerodl import cli, sweeps
from zerodl.callbacks import Callback
from zerodl.sweeps import Sweep, expand, read_records, run_key, run_one, sweep

SRC = Path(__file__).resolve().parents[1] / "src"
# Tiny and quick: a 2-6-2 network on 60 moons points.
BASE = {"layers": "2-6-2", "iters": 40, "batch_size": 20, "n_train": 60, "n_test": 50}
GRID = {"init": [0.5, "he"], "lr": [0.1, 0.5]}


def numbers_of(records):
    """What must not depend on where a run ran: everything but its time and worker."""
    return [{k: v for k, v in r.items() if k not in ("seconds", "worker")} for r in records]


def have_dask():
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


needs_dask = pytest.mark.skipif(not have_dask(), reason="Dask distributed is not installed")


# --------------------------------------------------------------------------- validation

@pytest.mark.parametrize("grid, base, dataset, message", [
    ({"learning_rate": [0.1]}, None, "moons", "unknown setting 'learning_rate'"),
    ({"lr": [0.1, -1]}, None, "moons", "grid['lr'][1] must be a number in (0.0, inf) or None"),
    ({"init": ["he", "kaiming"]}, None, "moons", "grid['init'][1] must be one of he"),
    ({"activation": ["relu", "swish"]}, None, "moons", "grid['activation'][1]"),
    ({"optimizer": ["adam"]}, {"lr_schedule": "cyclic"}, "moons",
     "lr_schedule must be one of step, exponential, cosine, plateau or None; got 'cyclic'."),
    ({"lr": [0.1]}, {"layers": "784-40-10"}, "moons", "layers must go from 2 inputs to 2"),
    ({"lr": [0.1]}, {"layers": "784-40"}, "mnist", "from 784 inputs to 10 outputs"),
    ({"lr": [0.1]}, {"epochs": 2, "iters": 5}, "moons", "give epochs or iters, not both"),
    ({"lr": [0.1]}, {"noise": 0.2}, "mnist", "noise is a setting of the toy data sets"),
    ({"lr": []}, None, "moons", "grid['lr'] must list at least one value"),
    ({"lr": [0.1, 0.1]}, None, "moons", "must not repeat a value"),
    ({"lr": [0.1]}, {"lr": 0.2}, "moons", "both in grid and in base"),
    ({"batch_size": [10, 2.5]}, None, "moons", "grid['batch_size'][1] must be an integer"),
    ({"lr": [0.1]}, None, "cifar", "dataset must be one of mnist"),
    ({"layers": ["2-8-2", "2-x-2"]}, None, "moons", "grid['layers'][1] must be sizes"),
])
def test_bad_settings_fail_before_anything_runs(tmp_path, grid, base, dataset, message):
    out = tmp_path / "s.jsonl"
    with pytest.raises(ValueError, match=re.escape(message)):
        sweep(grid, base=base, dataset=dataset, out=out, verbose=0)
    assert not out.exists()


def test_grid_values_must_be_lists_and_seeds_integers():
    with pytest.raises(TypeError, match="grid\\['lr'\\] must be a list"):
        expand({"lr": 0.1}, dataset="moons")
    with pytest.raises(TypeError, match="seeds\\[1\\] must be an integer"):
        sweep({"lr": [0.1]}, dataset="moons", seeds=[0, "1"], verbose=0)
    with pytest.raises(ValueError, match="workers or scheduler, not both"):
        sweep({"lr": [0.1]}, dataset="moons", workers=2, scheduler="tcp://127.0.0.1:1",
              verbose=0)


def test_expand_is_the_product_in_grid_order_with_course_defaults():
    configs = expand(GRID, base={"layers": [2, 6, 2]}, dataset="moons")
    assert [(c["init"], c["lr"]) for c in configs] == [(0.5, 0.1), (0.5, 0.5), ("he", 0.1),
                                                       ("he", 0.5)]
    mnist = expand({"optimizer": ["sgd", "adam"]})
    assert mnist[0]["layers"] == [784, 40, 10] and mnist[0]["iters"] == 1000
    assert [c["lr"] for c in mnist] == [0.1, 0.001]     # course's 0.1 for SGD, Adam's own
    assert mnist[0]["init"] == 0.01 and mnist[0]["n_train"] is None


# --------------------------------------------------------------------------- one run

def test_a_run_depends_only_on_config_and_seed():
    config = expand({"lr": [0.5]}, base=BASE, dataset="moons")[0]
    a, b, c = run_one(config, 3), run_one(config, 3), run_one(config, 4)
    assert numbers_of([a]) == numbers_of([b])
    assert a["history"] != c["history"]
    assert a["worker"] == "local" and a["seconds"] > 0
    # One JSON line gives back exactly the same numbers.
    assert json.loads(json.dumps(a)) == a


def have_threadpoolctl():
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not have_threadpoolctl(), reason="threadpoolctl is not installed")
def test_the_callers_blas_threads_do_not_change_a_run(mnist_dir):
    # On MNIST a two-thread OpenBLAS gives other last digits than one thread; run_one pins
    # BLAS to one thread, so a process started with two gives the numbers of one with one.
    code = ("import json; from zerodl.sweeps import expand, run_one; "
            "c = expand({}, base={'layers': '784-100-10', 'iters': 300})[0]; "
            "r = run_one(c, 0); print(json.dumps([r['history'], r['curve'], r['test']]))")
    printed = []
    for threads in ("2", "1"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads,
               "ZERODL_DATA_DIR": str(mnist_dir),
               "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
        printed.append(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                      capture_output=True, text=True).stdout)
    assert printed[0] == printed[1] and json.loads(printed[0])[2]["accuracy"] > 0.8


def test_the_test_set_is_a_held_out_draw_and_the_model_is_the_seeded_one():
    config = expand({"lr": [0.5]}, base=BASE, dataset="moons")[0]
    (x, d), (xt, dt) = sweeps.load_data(config, 7)
    assert x.shape == (60, 2) and xt.shape == (50, 2)
    assert not np.isin(xt[:, 0], x[:, 0]).any()          # new points, not a slice of x
    record = run_one(config, 7)
    model = zerodl.mlp([2, 6, 2], init=config["init"], seed=7)
    history = model.fit(x, d, steps=40, batch_size=20, optimizer=zerodl.optimizers.SGD(lr=0.5),
                        validation_data=(xt, dt), seed=7, verbose=0)
    assert record["history"]["loss"] == history.history["loss"]
    assert record["test"] == model.evaluate(xt, dt)


def test_curve_points_are_window_means_of_the_batch_losses():
    class Losses(Callback):
        def __init__(self):
            super().__init__()
            self.loss = []

        def on_train_batch_end(self, batch, logs=None):
            self.loss.append(logs["loss"])

    config = expand({"lr": [0.5]}, base={**BASE, "iters": 45}, dataset="moons")[0]
    record = run_one(config, 0)
    (x, d), (xt, dt) = sweeps.load_data(config, 0)
    model, seen = zerodl.mlp([2, 6, 2], init=0.01, seed=0), Losses()
    model.fit(x, d, steps=45, batch_size=20, optimizer=zerodl.optimizers.SGD(lr=0.5),
              seed=0, verbose=0, callbacks=[seen])
    # 45 steps, windows of 45 // 20 = 2 steps; batches all have 20 samples (60 = 3 x 20).
    assert record["curve"]["step"] == [*range(2, 46, 2), 45]
    expected = [np.mean(seen.loss[i:i + 2]) for i in range(0, 45, 2)]
    np.testing.assert_allclose(record["curve"]["loss"], expected, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")     # the divergence itself
def test_a_diverging_run_is_recorded_not_raised():
    config = expand({"lr": [1e6]}, base={**BASE, "output": "identity", "layers": "2-6-1"},
                    dataset="plane")[0]
    record = run_one(config, 0)
    assert "diverged" in record["error"] and record["test"] == {"loss": None}
    table = Sweep([record], ["lr"]).table()
    assert "diverged" in table


# --------------------------------------------------------------------------- the file

def test_out_file_resumes_after_a_torn_last_line(tmp_path, monkeypatch):
    out = tmp_path / "sweep.jsonl"
    full = sweep(GRID, base=BASE, dataset="moons", seeds=(0, 1), out=out, verbose=0)
    lines = out.read_text().splitlines()
    assert len(lines) == 8 and len({run_key(json.loads(s)["config"], json.loads(s)["seed"])
                                    for s in lines}) == 8
    # A sweep killed while writing its fourth record: three whole lines, half a fourth.
    out.write_text("\n".join(lines[:3]) + "\n" + lines[3][:50])
    calls = []
    real = sweeps.run_one
    monkeypatch.setattr(sweeps, "run_one", lambda c, s: calls.append((c, s)) or real(c, s))
    again = sweep(GRID, base=BASE, dataset="moons", seeds=(0, 1), out=out, verbose=0)
    assert len(calls) == 5                                   # only the runs not on file
    done = {run_key(json.loads(s)["config"], json.loads(s)["seed"]) for s in lines[:3]}
    assert all(run_key(c, s) not in done for c, s in calls)
    records = read_records(out)
    assert len(records) == 8
    assert len({run_key(r["config"], r["seed"]) for r in records}) == 8
    assert numbers_of(again.results) == numbers_of(full.results)   # same order, same numbers
    calls.clear()
    sweep(GRID, base=BASE, dataset="moons", seeds=(0, 1), out=out, verbose=0)
    assert calls == [] and len(out.read_text().splitlines()) == 8


def test_ctrl_c_keeps_the_finished_runs_and_the_next_call_completes(tmp_path):
    out = tmp_path / "sweep.jsonl"
    base = {**BASE, "iters": 3000}

    def interrupt_after_first_record():
        while not (out.exists() and out.read_text().count("\n") >= 1):
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_after_first_record, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        sweep(GRID, base=base, dataset="moons", out=out, verbose=0)
    partial = read_records(out)
    assert 1 <= len(partial) < 4
    # A run cut short by Ctrl-C is not recorded: every record on file is a whole run.
    full = sweep(GRID, base=base, dataset="moons", verbose=0)
    whole = {run_key(r["config"], r["seed"]): r for r in numbers_of(full.results)}
    assert all(whole[run_key(r["config"], r["seed"])] == r for r in numbers_of(partial))
    again = sweep(GRID, base=base, dataset="moons", out=out, verbose=0)
    assert numbers_of(again.results) == numbers_of(full.results)
    assert len(read_records(out)) == 4


def test_a_corrupt_line_in_the_middle_is_an_error(tmp_path):
    out = tmp_path / "sweep.jsonl"
    sweep({"lr": [0.1, 0.5]}, base=BASE, dataset="moons", out=out, verbose=0)
    lines = out.read_text().splitlines()
    out.write_text(lines[0] + "\n{not json\n" + lines[1] + "\n")
    with pytest.raises(ValueError, match="line 2 must be one JSON record"):
        sweep({"lr": [0.1, 0.5]}, base=BASE, dataset="moons", out=out, verbose=0)


# --------------------------------------------------------------------------- table, CSV, plot

def fake(lr, seed, accuracy, loss, curve):
    config = {**expand({"lr": [lr]}, base=BASE, dataset="moons")[0]}
    return {"config": config, "seed": seed, "history": {"epoch": [1], "loss": [curve[-1]],
                                                        "accuracy": [accuracy]},
            "curve": {"step": [1, 2, 3], "loss": curve, "accuracy": [0.5, 0.6, accuracy]},
            "test": {"loss": loss, "accuracy": accuracy}, "seconds": 1.0, "worker": "local"}


@pytest.fixture
def two_by_two():
    return Sweep([fake(0.1, 0, 0.4, 0.9, [1.0, 0.8, 0.6]), fake(0.1, 1, 0.6, 0.7, [1.0, 0.6, 0.4]),
                  fake(0.5, 0, 0.9, 0.2, [0.8, 0.4, 0.2]), fake(0.5, 1, 0.8, 0.3, [0.8, 0.2, 0.1])],
                 ["lr"])


def test_table_rows_are_mean_and_spread_over_seeds(two_by_two):
    rows = two_by_two.summary()
    assert [r["label"] for r in rows] == ["lr=0.1", "lr=0.5"]
    assert rows[0]["test_accuracy"] == pytest.approx(0.5)
    assert rows[0]["test_accuracy_spread"] == pytest.approx(np.sqrt(0.02))   # |0.4-0.6|/sqrt2
    assert rows[1]["test_loss"] == pytest.approx(0.25)
    lines = two_by_two.table().splitlines()
    assert len(lines) == 4
    assert "lr=0.1" in lines[2] and "0.5000 ± 0.1414" in lines[2] and "0.8000 ± 0.1414" in lines[2]
    assert "0.8500 ± 0.0707" in lines[3] and "0.2500 ± 0.0707" in lines[3]


def test_csv_has_one_row_per_run(two_by_two, tmp_path):
    path = tmp_path / "runs.csv"
    two_by_two.to_csv(path)
    rows = list(csv.DictReader(path.open()))
    assert [(r["lr"], r["seed"], float(r["test_accuracy"])) for r in rows] == [
        ("0.1", "0", 0.4), ("0.1", "1", 0.6), ("0.5", "0", 0.9), ("0.5", "1", 0.8)]
    assert rows[0]["layers"] == "2-6-2" and rows[0]["train_loss"] == "0.6"


def test_plot_draws_the_seed_means_and_every_seed(two_by_two, tmp_path):
    path = tmp_path / "sweep.png"
    fig = two_by_two.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loss_ax, acc_ax, final_ax = fig.axes
    curves = [line.get_ydata() for line in loss_ax.get_lines()]
    np.testing.assert_allclose(curves, [[1.0, 0.7, 0.5], [0.8, 0.3, 0.15]])
    np.testing.assert_allclose(acc_ax.get_lines()[0].get_ydata(), [0.5, 0.6, 0.5])
    errors = [c for c in final_ax.containers if hasattr(c, "has_yerr") and c.has_yerr]
    means = [c.lines[0].get_ydata()[0] for c in errors]
    np.testing.assert_allclose(means, [0.5, 0.85])
    dots = sorted(v for line in final_ax.get_lines() if line.get_marker() == "o"
                  for v in line.get_ydata())
    np.testing.assert_allclose(dots, [0.4, 0.6, 0.8, 0.9])
    spans = [np.ptp(seg[:, 1]) for c in errors for seg in c.lines[2][0].get_segments()]
    np.testing.assert_allclose(spans, [2 * np.sqrt(0.02), 2 * np.sqrt(0.005)])


# --------------------------------------------------------------------------- Dask

def test_without_dask_workers_fall_back_to_serial_and_say_so(monkeypatch, capsys):
    monkeypatch.setattr(sweeps, "_have_dask", lambda: False)
    result = sweep({"lr": [0.1, 0.5]}, base=BASE, dataset="moons", workers=2, verbose=1)
    assert {r["worker"] for r in result.results} == {"local"}
    err = capsys.readouterr().err
    assert err.count("Dask is not installed") == 1 and "zerodl[dask]" in err
    with pytest.raises(ImportError, match="zerodl\\[dask\\]"):
        sweep({"lr": [0.1]}, base=BASE, dataset="moons", scheduler="tcp://127.0.0.1:1",
              verbose=0)


@needs_dask
def test_two_local_workers_give_the_serial_numbers_bit_for_bit(tmp_path):
    serial = sweep(GRID, base=BASE, dataset="moons", seeds=(0, 1), verbose=0)
    parallel = sweep(GRID, base=BASE, dataset="moons", seeds=(0, 1), workers=2, verbose=0,
                     out=tmp_path / "p.jsonl")
    assert numbers_of(parallel.results) == numbers_of(serial.results)
    assert {r["worker"] for r in serial.results} == {"local"}
    assert all(r["worker"].startswith("tcp://127.0.0.1:") for r in parallel.results)
    assert len(read_records(tmp_path / "p.jsonl")) == 8


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_dask
def test_a_killed_worker_s_runs_are_recomputed_and_recorded_once(tmp_path):
    from distributed import Client

    env = {**os.environ, **sweeps.SINGLE_THREAD_ENV,
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = []

    def start(name, *args):
        log = open(logs / f"{name}.log", "wb")
        procs.append(subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=log,
                                      stderr=subprocess.STDOUT, cwd=tmp_path))
        return procs[-1]

    try:
        start("scheduler", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
              "--port", str(port), "--no-dashboard")
        # No nanny: a killed worker stays dead, so its runs must go to the other one.
        workers = [start(f"worker{i}", "distributed.cli.dask_worker", address, "--nthreads",
                         "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard",
                         "--name", f"worker{i}")
                   for i in range(2)]
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

        out = tmp_path / "killed.jsonl"
        base = {**BASE, "iters": 1500}          # runs long enough to be caught mid-way
        killed = threading.Event()
        lost = []

        def kill_mid_run():
            # Once a record is on file and the first worker holds a run, kill it.
            with Client(address, timeout=10) as watcher:
                victim = next(addr for addr, info in watcher.scheduler_info()["workers"].items()
                              if info["name"] == "worker0")
                while not lost:
                    busy = watcher.processing().get(victim, ())
                    if busy and out.exists() and out.read_text().count("\n") >= 1:
                        workers[0].send_signal(signal.SIGKILL)
                        lost.extend(busy)
                    time.sleep(0.01)
            killed.set()

        threading.Thread(target=kill_mid_run, daemon=True).start()
        result = sweep(GRID, base=base, dataset="moons", seeds=(0, 1, 2), scheduler=address,
                       out=out, verbose=0)
        assert killed.wait(10) and workers[0].wait(10) == -signal.SIGKILL
        assert lost                     # it was killed holding a run, which went elsewhere
        records = read_records(out)
        keys = [run_key(r["config"], r["seed"]) for r in records]
        assert len(records) == 12 and len(set(keys)) == 12
        serial = sweep(GRID, base=base, dataset="moons", seeds=(0, 1, 2), verbose=0)
        assert numbers_of(result.results) == numbers_of(serial.results)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------- command line

@pytest.mark.parametrize("argv, message", [
    (["--grid", "lr"], "must be NAME=VALUES"),
    (["--grid", "lr=abc"], "grid['lr'][0] must be a number in (0.0, inf) or None; got 'abc'."),
    (["--grid", "batch_size=10,x"], "grid['batch_size'][1] must be an integer >= 1; got 'x'."),
    (["--grid", "speed=1,2"], "unknown setting 'speed'"),
    (["--grid", "lr=0.1,"], "lr must have a value"),
    (["--grid", "init=0.01,kaiming", "--dataset", "moons"], "grid['init'][1] must be one of"),
    (["--grid", "lr=0.1", "--grid", "lr=0.2"], "lr is given twice"),
    (["--preset", "course-init", "--grid", "init=he"], "init is given twice"),
    (["--dataset", "moons"], "give at least one --grid"),
    (["--grid", "lr=0.1", "--seeds", "0,x"], "--seeds must be integers"),
    (["--grid", "lr=0.1", "--workers", "2", "--scheduler", "tcp://h:1"], "not allowed with"),
    (["--grid", "lr=0.1", "--iters", "5", "--epochs", "2"], "not allowed with"),
])
def test_cli_mistakes_exit_2_with_one_line(capsys, argv, message):
    assert cli.main(["sweep", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_cli_prints_the_table_and_writes_the_files(capsys, tmp_path):
    argv = ["sweep", "--grid", "lr=0.1,0.5", "--grid", "init=he", "--dataset", "moons",
            "--layers", "2-6-2", "--iters", "40", "--set", "batch_size=20", "--set",
            "n_train=60", "--seeds", "0,1", "--quiet", "--out", str(tmp_path / "s.jsonl"),
            "--plot", str(tmp_path / "s.png"), "--csv", str(tmp_path / "s.csv")]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    expected = sweep({"lr": [0.1, 0.5], "init": ["he"]},
                     base={"layers": "2-6-2", "iters": 40, "batch_size": 20, "n_train": 60},
                     dataset="moons", seeds=(0, 1), verbose=0)
    # Every column but the last, the seconds per run.
    assert ([line.split()[:-1] for line in printed.splitlines()]
            == [line.split()[:-1] for line in expected.table().splitlines()])
    assert len(read_records(tmp_path / "s.jsonl")) == 4
    assert (tmp_path / "s.png").stat().st_size > 0
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 5
