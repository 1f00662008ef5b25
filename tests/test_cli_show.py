"""zerodl show: one run per kind on toy data (MNIST where the files are), one-line errors."""
import pytest
from matplotlib.image import imread

import zerodl
from zerodl.cli import main

KINDS = ["weights", "activations", "confusion", "mistakes", "boundary", "layers"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_on_a_toy_set(kind, tmp_path, capsys):
    out = tmp_path / f"{kind}.png"
    code = main(["show", kind, "--dataset", "xor", "--layers", "2-8-2", "--iters", "200",
                 "--samples", "100", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "trained Sequential(2-8-2" in text and f"{kind} written to {out}" in text
    image = imread(out)
    assert image.ndim == 3 and min(image.shape[:2]) > 100


def test_a_saved_model_is_shown_as_it_is(tmp_path, capsys):
    x, d = zerodl.make_toy("circle", 100, seed=0)
    model = zerodl.mlp([2, 6, 2], seed=3)
    model.save(tmp_path / "m.npz")
    out = tmp_path / "w.png"
    assert main(["show", "weights", "--model", str(tmp_path / "m.npz"), "--dataset", "circle",
                 "--out", str(out)]) == 0
    assert "trained" not in capsys.readouterr().out      # no training: the file's weights
    assert out.exists()
    assert zerodl.load(tmp_path / "m.npz").params["W1"].tolist() == model.params["W1"].tolist()


def test_mnist_weights_and_mistakes(mnist_dir, tmp_path, capsys):
    for kind in ("weights", "mistakes"):
        out = tmp_path / f"{kind}.png"
        assert main(["show", kind, "--iters", "50", "--data-dir", str(mnist_dir),
                     "--out", str(out)]) == 0
        assert out.exists()
    assert "on mnist: accuracy 0." in capsys.readouterr().out


@pytest.mark.parametrize("argv, fragment", [
    (["show"], "the following arguments are required: kind"),
    (["show", "colours"], "invalid choice: 'colours'"),
    (["show", "weights", "--dataset", "swirl"], "dataset must be one of mnist, circle, xor"),
    (["show", "weights", "--dataset", "spiral", "--layers", "3-4-2"],
     "layers must go from 2 inputs to 2 outputs for spiral with the softmax output; got 3-4-2."),
    (["show", "weights", "--layers", "2-x"], "argument --layers: layers must be sizes joined by '-'"),
    (["show", "weights", "--init", "magic"], "init must be one of he, xavier"),
    (["show", "weights", "--iters", "0"], "iters must be an integer >= 1 or None; got 0."),
    (["show", "weights", "--epochs", "1", "--iters", "3"], "not allowed with argument"),
    (["show", "weights", "--dataset", "xor", "--layer", "4", "--iters", "1"],
     "--layer must be in 1..3"),
    (["show", "weights", "--model", "nowhere.npz"], "nowhere.npz"),
    (["show", "activations", "--dataset", "xor", "--layers", "2-2", "--iters", "1"],
     "at least one hidden layer"),
    (["show", "weights", "--dataset", "xor", "--activation", "step", "--iters", "1"],
     "activation must not be 'step' with hidden layers: step has no gradient"),
])
def test_mistakes_exit_2_with_one_line(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.count("\n") == 1


def test_boundary_needs_2d_data(tmp_path, capsys):
    model = zerodl.mlp([784, 5, 10], seed=0)
    model.save(tmp_path / "m.npz")
    assert main(["show", "boundary", "--model", str(tmp_path / "m.npz")]) == 2
    assert "boundary needs 2-D data" in capsys.readouterr().err
    assert main(["show", "boundary"]) == 2              # mnist, refused before loading it
    assert "boundary needs 2-D data" in capsys.readouterr().err


def test_a_2d_model_needs_a_dataset(tmp_path, capsys):
    zerodl.mlp([2, 3, 2], seed=0).save(tmp_path / "m.npz")
    assert main(["show", "confusion", "--model", str(tmp_path / "m.npz")]) == 2
    assert "--dataset is needed with a model of 2 inputs" in capsys.readouterr().err
