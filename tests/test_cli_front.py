"""The command line's front: --version, bare ``zerodl``, help texts with defaults, one error
prefix, install hints, and the per-command fixes (compare-optimizers, show, train's lines)."""
import argparse
import re

import numpy as np
import pytest

import zerodl
from zerodl.cli import main
from zerodl.cli.app import build_parser
from zerodl.core.extras import install_hint
from zerodl.core.toy import TOY_DATASETS


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"zerodl {zerodl.__version__}\n"


def test_bare_zerodl_prints_the_usage_and_the_commands(capsys):
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("usage: zerodl ")
    for command in ("train", "evaluate", "gradcheck", "compare-optimizers", "bench", "show"):
        assert re.search(rf"^    {command}\b", err, re.M), command
    assert "the following arguments are required" not in err


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [("zerodl", parser), *action.choices.items()]


@pytest.mark.parametrize("name, parser", _subparsers(), ids=lambda v: str(v)[:20])
def test_every_option_has_help_that_shows_its_default(name, parser):
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction,
                               argparse._SubParsersAction)) or not action.option_strings:
            continue
        text = parser._get_formatter()._expand_help(action) if action.help else ""
        text = parser.formatter_class("x")._get_help_string(action) % {
            **vars(action), "default": action.default} if text else text
        assert text, f"{name} {action.option_strings[0]} has no help"
        assert "default" in text, f"{name} {action.option_strings[0]}: {text!r}"


@pytest.mark.parametrize("argv, prefix", [
    (["train", "--bogus"], "zerodl train: unrecognized arguments: --bogus"),
    (["train", "--lr", "-1"], "zerodl train: argument --lr"),
    (["show", "weights", "--layer", "0"], "zerodl show: argument --layer"),
    (["bench", "--rounds", "0"], "zerodl bench: --rounds must be >= 1"),
    (["gradcheck", "--activation", "step"], "zerodl gradcheck: --activation step has no"),
    (["nope"], "zerodl: argument COMMAND: invalid choice: 'nope'"),
])
def test_one_error_prefix(argv, prefix, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(prefix) and err.count("\n") == 1, err


def test_install_hints_work_from_an_index_and_from_a_checkout():
    hint = install_hint("playground")
    assert 'pip install "zerodl[playground]"' in hint
    assert 'pip install -e ".[playground]" in a checkout' in hint


def test_compare_optimizers_uses_trains_rates():
    from zerodl.compare import compare_optimizers
    from zerodl.training.recipe import RunConfig
    rng = np.random.default_rng(0)
    x, d = rng.random((120, 784), dtype=np.float32), rng.integers(0, 10, 120)
    results = compare_optimizers(["sgd", "adam"], x[:100], d[:100], x[100:], d[100:],
                                 layers=(784, 8, 10), epochs=1, batch_size=50, eval_every=1)
    for name in ("sgd", "adam"):
        assert results[name]["lr"] == RunConfig(optimizer=name).learning_rate()
    assert results["sgd"]["lr"] == 0.1


def test_compare_plot_has_the_whole_accuracy_axis():
    from zerodl.compare import plot_comparison
    result = {"optimizer": "SGD", "lr": 0.1, "loss": [1.0, 0.5], "eval_step": [0, 2],
              "test_accuracy": [0.9, 0.95], "steps_per_epoch": 2, "seconds": 1.0}
    fig = plot_comparison({"sgd": result})
    assert fig.axes[1].get_ylim() == (0.0, 1.0)


def test_show_accepts_every_toy_set():
    from zerodl.cli.show import SHOW_SETTINGS
    from zerodl.training.recipe import SETTINGS
    assert "dataset" in SHOW_SETTINGS
    assert set(SETTINGS["dataset"].rule.names()) >= {"mnist", *TOY_DATASETS}


def test_show_weights_of_a_two_input_model_needs_no_dataset(tmp_path, capsys):
    zerodl.mlp([2, 8, 2], seed=0).save(tmp_path / "m.npz")
    out = tmp_path / "w.png"
    assert main(["show", "weights", "--model", str(tmp_path / "m.npz"), "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    assert capsys.readouterr().out == f"weights written to {out}\n"


def test_train_prints_a_line_per_epoch(tmp_path, capsys):
    assert main(["train", "--dataset", "circle", "--epochs", "2", "--plot",
                 str(tmp_path / "c.png")]) == 0
    out, err = capsys.readouterr()
    for epoch in (1, 2):
        assert re.search(rf"Epoch {epoch}/2: 2/2 .*loss: \d\.\d{{4}} - accuracy: \d\.\d{{4}} - "
                         r"val_loss: \d\.\d{4} - val_accuracy", err)
    assert "not the bars' running means" in out
