"""A sweep's results file: never cut short unless it is all sweep records, never shared by
two sweeps, never also an output; grids, workers and sizes bounded before anything runs."""
import fcntl
import json
import os

import pytest

from zerodl import cli, sweeps
from zerodl.sweeps import Sweep, read_records, sweep

BASE = {"layers": "2-6-2", "iters": 20, "batch_size": 20, "n_train": 40, "n_test": 20}
GRID = {"lr": [0.1, 0.5]}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
NPZ = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(200, 256)) * 3
NOTES = "my notes about the lr sweep\nto try: 0.3"


@pytest.mark.parametrize("name, content", [("mine.png", PNG), ("mine.npz", NPZ),
                                           ("notes.txt", NOTES.encode())])
def test_a_file_that_is_not_a_sweep_s_is_refused_whole(tmp_path, name, content, monkeypatch):
    out = tmp_path / name
    out.write_bytes(content)
    monkeypatch.setattr(sweeps, "run_one", lambda c, s: pytest.fail("a run started"))
    with pytest.raises(ValueError, match=r"out must be a sweep's results file \(JSON lines, "
                                         r"one record each\); got '.*" + name.replace(".", r"\.")):
        sweep(GRID, base=BASE, dataset="moons", out=out, verbose=0)
    assert out.read_bytes() == content


def test_the_cli_refuses_it_in_one_line_and_leaves_it(tmp_path, capsys):
    out = tmp_path / "mine.npz"
    out.write_bytes(NPZ)
    assert cli.main(["sweep", "--grid", "lr=0.1", "--dataset", "moons", "--quiet",
                     "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "out must be a sweep's results file" in err
    assert out.read_bytes() == NPZ


@pytest.mark.parametrize("record, match", [
    ({"config": {}, "seed": 0}, r"line 1 must be a sweep record with .*'test'"),
    ({"config": [], "seed": 0, "history": {}, "curve": {}, "test": {}, "seconds": 1.0,
      "worker": "local"}, r"line 1 must be a sweep record: 'config' must be a dict"),
    ({"config": {}, "seed": "0", "history": {}, "curve": {}, "test": {}, "seconds": 1.0,
      "worker": "local"}, r"'seed' must be an integer >= 0"),
    ({"config": {}, "seed": 0, "history": {}, "curve": {}, "test": {}, "seconds": "x",
      "worker": "local"}, r"'seconds' must be a number"),
])
def test_malformed_records_are_refused_in_one_line(tmp_path, record, match):
    out = tmp_path / "s.jsonl"
    out.write_text(json.dumps(record) + "\n")
    with pytest.raises(ValueError, match=match):
        read_records(out)


def test_a_torn_last_record_is_still_repaired(tmp_path):
    out = tmp_path / "s.jsonl"
    result = sweep(GRID, base=BASE, dataset="moons", out=out, verbose=0)
    lines = out.read_text().splitlines()
    out.write_text(lines[0] + "\n" + lines[1][:40])
    assert len(read_records(out)) == 1
    assert out.read_text() == lines[0] + "\n"
    assert len(result.results) == 2


def test_a_second_sweep_on_the_same_file_is_refused(tmp_path, monkeypatch):
    out = tmp_path / "s.jsonl"
    out.write_text("")
    monkeypatch.setattr(sweeps, "run_one", lambda c, s: pytest.fail("a run started"))
    with open(out, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ValueError, match=r"out must not be in use by another sweep; got "
                                             r"'.*s\.jsonl'"):
            sweep(GRID, base=BASE, dataset="moons", out=out, verbose=0)
    assert out.read_text() == ""


@pytest.mark.parametrize("options", [("--out", "--csv"), ("--out", "--plot"),
                                     ("--csv", "--plot")])
def test_cli_outputs_on_one_file_are_refused_before_any_run(tmp_path, capsys, options,
                                                           monkeypatch):
    same = tmp_path / "same.file"
    same.write_text("keep me\n")
    monkeypatch.setattr(sweeps, "run_one", lambda c, s: pytest.fail("a run started"))
    argv = ["sweep", "--grid", "lr=0.1", "--dataset", "moons", "--quiet"]
    for option in options:
        argv += [option, str(same)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{options[1]} must name another file than {options[0]}" \
        in err
    assert same.read_text() == "keep me\n"


def test_a_huge_grid_is_counted_not_expanded():
    grid = {"lr": [0.001 * (i + 1) for i in range(1000)],
            "batch_size": list(range(1, 1001)), "n_train": list(range(2, 1002))}
    with pytest.raises(ValueError, match=r"grid must make at most 10,000 runs \(configs x "
                                         r"seeds\); got 1,000,000,000 \(1000 x 1000 x 1000 "
                                         r"configs x 1 seed\)"):
        sweep(grid, base={"layers": "2-6-2", "iters": 5}, dataset="moons", verbose=0)


def test_workers_are_capped_at_the_runs_and_warned_above_the_cores(monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(sweeps, "_have_dask", lambda: True)
    monkeypatch.setattr(sweeps, "_run_dask", lambda todo, done, workers, *a: seen.update(
        workers=workers) or [done(sweeps.run_one(c, s)) for c, s in todo])
    sweep(GRID, base=BASE, dataset="moons", workers=10_000, verbose=1)
    assert seen["workers"] == 2
    err = capsys.readouterr().err
    assert "workers=10000 is more than the 2 runs; using 2" in err
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    sweep(GRID, base=BASE, dataset="moons", workers=2, verbose=1)
    assert "workers=2 is more than this machine's 1 cores" in capsys.readouterr().err


def test_sizes_that_cannot_fit_are_refused_by_their_rule():
    with pytest.raises(ValueError, match=r"n_train must be .*1000000.*; got 1000000000"):
        sweep(GRID, base={**BASE, "n_train": 10**9}, dataset="moons", verbose=0)


def test_sigterm_ends_a_sweep_with_143_like_train(tmp_path, capsys, monkeypatch):
    def terminated(config, seed):
        raise sweeps.Interrupted("SIGTERM")
    monkeypatch.setattr(sweeps, "run_one", terminated)
    assert cli.main(["sweep", "--grid", "lr=0.1", "--dataset", "moons", "--quiet"]) == 143
    assert "terminated (SIGTERM)" in capsys.readouterr().err


def test_a_run_stopped_by_sigterm_raises_interrupted_with_the_signal(monkeypatch):
    from zerodl import History
    from zerodl.training.recipe import RunConfig

    def stopped(self, model, optimizer, **kwargs):       # what fit returns after SIGTERM
        history = History()
        history.interrupted, history.signal = True, "SIGTERM"
        return history
    monkeypatch.setattr(RunConfig, "fit", stopped)
    with pytest.raises(sweeps.Interrupted) as caught:
        sweeps.run_one(sweeps.expand(GRID, BASE, "moons")[0], 0)
    assert caught.value.signal == "SIGTERM" and isinstance(caught.value, KeyboardInterrupt)


def test_sweep_of_malformed_records_is_refused_when_made():
    with pytest.raises(ValueError, match=r"results\[0\] must be a sweep record with the keys"):
        Sweep([{"config": {}, "seed": 0}])
    with pytest.raises(TypeError, match=r"results must be a list of sweep records; got 'abc'"):
        Sweep("abc")


def test_out_a_folder_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sweeps, "run_one", lambda c, s: pytest.fail("a run started"))
    with pytest.raises(ValueError, match=r"out must be a regular file or a new one; got "
                                         r"'.*', which is a folder"):
        sweep(GRID, base=BASE, dataset="moons", out=tmp_path, verbose=0)
