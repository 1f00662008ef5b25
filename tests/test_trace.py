"""zerodl.trace.trace and `zerodl trace`: the course's 2-3-2 cell, value by value."""
import numpy as np
import pytest

import zerodl
from zerodl import cli
from zerodl.trace import course_232, format_array, trace

X, D = np.array([[1.0, 5.0]]), np.array([[0.0, 1.0]])


def _hand_worked():
    """The 2-3-2 cell by hand: ReLU hidden layer, softmax output, cross-entropy."""
    u1 = np.array([[1 * 0.1 + 5 * 0.2 + 0.1, 1 * 0.3 + 5 * 0.4 + 0.2, 1 * 0.5 + 5 * 0.6 + 0.3]])
    z1 = np.maximum(u1, 0)
    W2 = np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]])
    u2 = z1 @ W2 + [0.1, 0.2]
    y = np.exp(u2) / np.exp(u2).sum()
    delta2 = y - D
    delta1 = (delta2 @ W2.T) * (u1 > 0)
    return dict(u1=u1, z1=z1, u2=u2, y=y, loss=-np.log(y[0, 1]), delta2=delta2, delta1=delta1,
                grad={"W1": X.T @ delta1, "b1": delta1[0], "W2": z1.T @ delta2, "b2": delta2[0]})


def test_course_232_values():
    lines = []
    got = trace(course_232(), X, D, print_fn=lines.append)
    want = _hand_worked()
    np.testing.assert_allclose(got["u1"], [[1.2, 2.5, 3.8]])
    np.testing.assert_allclose(got["u2"], [[1.86, 4.21]])
    for key in ("u1", "z1", "u2", "y", "delta2", "delta1"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, err_msg=key)
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-12)
    assert set(got["grad"]) == {"W1", "b1", "W2", "b2"}
    for key, g in want["grad"].items():
        np.testing.assert_allclose(got["grad"][key], g, rtol=1e-12, err_msg=key)
    assert got["grad"]["W1"][1, 0] == pytest.approx(-0.1306, abs=5e-5)
    np.testing.assert_array_equal(got["W1"], [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]])
    np.testing.assert_array_equal(got["x"], X)


def test_course_232_printed_order_labels_and_shapes():
    lines = []
    trace(course_232(), X, D, print_fn=lines.append)
    heads = [line for line in lines if line.startswith(("***", "==="))]
    labels = [h.split(" shape")[0].strip("*= ").split(" (")[0] for h in heads]
    assert labels == [
        "順伝播: Sequential(2-3-2, output='softmax', dtype=float64)", "入力",
        "重み1", "バイアス1", "総入力1", "中間層出力1", "重み2", "バイアス2", "総入力2",
        "出力", "出力合計", "誤差", "逆伝播", "偏微分_dE/du2", "偏微分_dE/du1",
        "偏微分_重み1", "偏微分_バイアス1", "偏微分_重み2", "偏微分_バイアス2"]
    text = "\n".join(lines)
    assert "*** 重み1 shape (2, 3) ***\n[[0.1 0.3 0.5]\n [0.2 0.4 0.6]]" in text
    assert "*** 総入力1 shape (1, 3) ***\n[[1.2 2.5 3.8]]" in text
    assert "*** 総入力2 shape (1, 2) ***\n[[1.86 4.21]]" in text
    assert "[[-0.0261 -0.0261 -0.0261]\n [-0.1306 -0.1306 -0.1306]]" in text   # 偏微分_重み1


def test_english_forward_only_and_model_unchanged():
    model = course_232()
    before = {k: v.copy() for k, v in model.params.items()}
    lines = []
    got = trace(model, [1.0, 5.0], lang="en", print_fn=lines.append)
    assert "loss" not in got and "grad" not in got and "delta1" not in got
    assert lines[1] == "*** input x shape (1, 2) ***"
    assert any(line.startswith("*** total input u1 shape (1, 3)") for line in lines)
    assert not any("dE/du" in line for line in lines)
    np.testing.assert_allclose(got["y"], model.predict([[1.0, 5.0]]))
    for key in before:
        np.testing.assert_array_equal(model.params[key], before[key])


def test_matches_gradient_on_a_deeper_net_and_prints_nothing_with_none():
    model = zerodl.mlp([4, 6, 5, 3], activation="tanh", init="xavier", seed=3, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((7, 4))
    d = np.array([0, 1, 2, 0, 1, 2, 0])
    got = trace(model, x, d, print_fn=None)
    want = model.gradient(x, d)
    for key in want:
        np.testing.assert_allclose(got["grad"][key], want[key], rtol=1e-12)
    np.testing.assert_allclose(got["z2"], np.tanh(got["u2"]))
    assert got["loss"] == pytest.approx(model.loss(x, d))
    assert got["delta3"].shape == (7, 3) and got["delta1"].shape == (7, 6)


def test_long_arrays_are_summarised():
    a = np.arange(784 * 40, dtype=np.float32).reshape(784, 40)
    text = format_array(a)
    assert "..." in text and len(text.splitlines()) <= 9
    assert text.endswith("(min 0, mean 1.568e+04, max 3.136e+04)")
    assert "..." not in format_array(np.arange(10.0))


def test_bad_lang():
    with pytest.raises(ValueError, match="lang must be one of"):
        trace(course_232(), X, lang="fr")


def test_cli_trace_default_is_the_course_cell(capsys):
    assert cli.main(["trace"]) == 0
    out = capsys.readouterr().out
    assert "*** 偏微分_dE/du1 shape (1, 3) ***\n[[-0.0261 -0.0261 -0.0261]]" in out
    assert cli.main(["trace", "--lang", "en", "--x", "1,5;2,3"]) == 0
    out = capsys.readouterr().out
    assert "*** input x shape (2, 2) ***" in out and "dE/du" not in out


def test_cli_trace_saved_model_and_errors(tmp_path, capsys):
    path = tmp_path / "m.npz"
    zerodl.mlp([3, 2], output="identity", seed=0).save(path)
    assert cli.main(["trace", "--model", str(path), "--x", "1,2,3", "--d", "0.5,1"]) == 0
    assert "偏微分_重み1 shape (3, 2)" in capsys.readouterr().out
    assert cli.main(["trace", "--model", str(path)]) == 2
    assert cli.main(["trace", "--model", str(path), "--x", "1,2"]) == 2
    assert cli.main(["trace", "--x", "1,a"]) == 2
    assert cli.main(["trace", "--d", "0,1,0"]) == 2          # 3 labels for 2 outputs
    assert cli.main(["trace", "--layers", "2-3-2", "--activation", "step", "--x", "1,2",
                     "--d", "0,1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5 and all(line.startswith("zerodl") for line in err)


def test_cli_trace_class_index_label_equals_one_hot(capsys):
    assert cli.main(["trace", "--d", "1"]) == 0
    by_index = capsys.readouterr().out
    assert cli.main(["trace", "--d", "0,1"]) == 0
    assert capsys.readouterr().out == by_index
