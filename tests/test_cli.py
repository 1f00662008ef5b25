"""The zerodl command: the main job end to end, and one-line errors with status 2."""
import subprocess
import sys

import pytest

import zerodl
from zerodl.cli import main


def test_train_writes_curves_and_model(mnist_dir, tmp_path, capsys):
    plot, saved = tmp_path / "curves.png", tmp_path / "m.npz"
    code = main(["train", "--layers", "784-20-10", "--iters", "60", "--data-dir", str(mnist_dir),
                 "--plot", str(plot), "--save", str(saved), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "test accuracy 0." in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = zerodl.load(saved)
    assert model.params["W1"].shape == (784, 20)
    accuracy = float(out.split("test accuracy ")[1].split(",")[0])
    assert main(["evaluate", str(saved), "--data-dir", str(mnist_dir)]) == 0
    assert f"test accuracy {accuracy:.4f}" in capsys.readouterr().out


def test_gradcheck_command(capsys):
    assert main(["gradcheck", "--activation", "tanh", "--output", "sigmoid"]) == 0
    out = capsys.readouterr().out
    assert "W1" in out and "b2" in out and "backpropagation agrees" in out


@pytest.mark.parametrize("argv,fragment", [
    (["train", "--layers", "784-x-10"], "argument --layers: layers must be sizes joined by '-'"),
    (["train", "--layers", "100-10"], "layers must go from 784 inputs to 10 outputs for mnist "
                                      "with the softmax output; got 100-10."),
    (["train", "--lr", "-1"], "argument --lr: lr must be a number in (0.0, inf) or None; got "
                              "-1.0."),
    (["train", "--activation", "swish"], "activation must be one of relu, leaky_relu, sigmoid, "
                                         "tanh, identity, step; got 'swish'."),
    (["train", "--epochs", "2", "--iters", "5"], "not allowed with argument"),
    (["evaluate", "missing.npz"], "model file not found: missing.npz"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_user_errors_exit_2_with_one_line(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "zerodl", "gradcheck", "--layers", "3-2-2"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "backpropagation agrees" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "zerodl", "train", "--batch-size", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
