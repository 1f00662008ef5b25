"""Bounded before allocated, values that would turn into NaN refused now, and every refusal
one line naming the argument, the rule and the value (hardening round three)."""
import json
import os
import time
import zipfile

import numpy as np
import pytest

import zerodl
from zerodl import History, cli, mlp
from zerodl.io import CONFIG_KEY
from zerodl.layers import LeakyReLU
from zerodl.metrics import confusion_matrix
from zerodl.toy import make_toy


def bomb(path, n_chars: int, key: str = CONFIG_KEY) -> None:
    """A file whose header entry ``key`` declares (and holds) ``n_chars`` characters of
    zeros: small on disk, huge once read."""
    header = {"descr": f"<U{n_chars}", "fortran_order": False, "shape": ()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(f"{key}.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_2_0(f, header)
            chunk = b"\0" * (1 << 22)
            left = 4 * n_chars
            while left:
                f.write(chunk[:min(left, len(chunk))])
                left -= min(left, len(chunk))


def test_a_config_entry_larger_than_the_cap_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "bomb.npz"
    bomb(path, zerodl.io.MAX_CONFIG_CHARS + 1)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ValueError, match=r"bomb.npz is not a valid zerodl model file: its "
                                         r"'__zerodl_config__' entry declares 4,194,305 "
                                         r"characters, more than the 4,194,304 a header may"):
        zerodl.load(path)


def test_a_checkpoint_header_larger_than_the_cap_is_refused_before_it_is_read(tmp_path):
    from zerodl.checkpoint import STATE_KEY
    path = tmp_path / "ck.npz"
    bomb(path, zerodl.io.MAX_HEADER_CHARS + 1, STATE_KEY)
    model = mlp([4, 5, 3], seed=0)
    with pytest.raises(ValueError, match=r"ck.npz is not a valid zerodl checkpoint: its "
                                         r"'__zerodl_checkpoint__' entry declares "
                                         r"67,108,865 characters"):
        model.fit(np.zeros((4, 4), np.float32), np.zeros(4, int), resume=path, verbose=0)


def test_a_model_whose_config_would_be_unreadable_is_not_saved(tmp_path, monkeypatch):
    model = mlp([2, 3, 2], seed=0)
    monkeypatch.setattr(zerodl.io, "MAX_CONFIG_CHARS", 10)
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError, match=r"the model's config must fit in 10 characters of "
                                         r"JSON to be saved .*Nothing was written"):
        model.save(path)
    assert not path.exists()


def test_a_config_entry_that_is_not_one_string_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, **{CONFIG_KEY: np.zeros(3)})
    with pytest.raises(ValueError, match=r"its '__zerodl_config__' entry must be one text "
                                         r"string; it declares shape \(3,\) and dtype float64"):
        zerodl.load(path)


def test_load_of_an_unreadable_file_names_it(tmp_path):
    with pytest.raises(OSError, match=r"path must be a file zerodl can read; got "
                                      r"'/proc/self/mem' \(Input/output error\)"):
        zerodl.load("/proc/self/mem")


@pytest.mark.parametrize("alpha", [1e308, 1.5, -0.1, float("nan")])
def test_leaky_relu_alpha_is_a_slope_in_0_1(alpha):
    with pytest.raises(ValueError, match=r"alpha must be a (finite )?number in \[0.0, 1.0\]"):
        LeakyReLU(alpha)


def test_leaky_relu_alpha_from_a_model_file_is_checked(tmp_path):
    model = zerodl.Sequential([zerodl.layers.Dense(2, 3), LeakyReLU(0.1),
                               zerodl.layers.Dense(3, 2)], seed=0)
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    config = json.loads(str(arrays[CONFIG_KEY]))
    text = json.dumps(config).replace('"alpha": 0.1', '"alpha": 1e308')
    assert "1e308" in text
    arrays[CONFIG_KEY] = np.array(text)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"m.npz is not a valid zerodl model file: .*alpha "
                                         r"must be a number in \[0.0, 1.0\]; got 1e\+308"):
        zerodl.load(path)


def test_make_toy_noise_is_bounded():
    with pytest.raises(ValueError, match=r"noise must be a number in \[0.0, 10.0\]; got 1e\+308"):
        make_toy("moons", noise=1e308)
    with pytest.raises(ValueError, match=r"n_samples must be an integer in \[2, 1000000\]"):
        make_toy("moons", n_samples=10**9)


def test_save_refuses_a_read_only_file(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"keep")
    path.chmod(0o444)
    with pytest.raises(PermissionError, match=r"path must be a file you may write to; got "
                                              r"'.*m.npz', which is read-only"):
        mlp([2, 3, 2], seed=0).save(path)
    assert path.read_bytes() == b"keep"


def test_confusion_matrix_is_sized_by_the_classes_not_a_stray_label():
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"d_true must hold class labels below 1000 when "
                                         r"n_classes is not given .*got the label 1000000000"):
        confusion_matrix([0, 10**9], [0, 1])
    assert time.perf_counter() - start < 5          # not a 10^18-cell allocation
    with pytest.raises(ValueError, match=r"n_classes must be an integer in \[1, 10000\]; "
                                         r"got 100000"):
        confusion_matrix([0, 1], [0, 1], n_classes=100_000)
    assert confusion_matrix([0, 999], [0, 1]).shape == (1000, 1000)


def test_plot_sizes_are_bounded():
    from zerodl.tools.inspection import decision_field, plot_activations
    model = mlp([2, 3, 2], seed=0)
    x = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"resolution must be an integer in \[2, 2000\]; "
                                         r"got 1000000"):
        decision_field(model, x, resolution=10**6)
    with pytest.raises(ValueError, match=r"bins must be an integer in \[1, 1000\]; got 10\*\*9|"
                                         r"bins must be an integer in \[1, 1000\]; got 1000000000"):
        plot_activations(model, x, bins=10**9)


def test_plots_refuse_what_is_not_a_model_or_an_empty_history():
    from zerodl.tools.inspection import plot_weights
    from zerodl.tools.plotting import plot_history
    with pytest.raises(TypeError, match=r"model must be a zerodl Sequential; got None"):
        plot_weights(None)
    with pytest.raises(ValueError, match=r"history must hold at least one epoch or step "
                                         r"\(fit records them\); got an empty History"):
        plot_history(History())
    with pytest.raises(TypeError, match=r"history must be a zerodl History; got 3"):
        plot_history(3)


def test_show_refuses_to_write_over_its_model(tmp_path, capsys):
    path = tmp_path / "m.npz"
    mlp([784, 10, 10], seed=0).save(path)
    before = path.read_bytes()
    assert cli.main(["show", "weights", "--model", str(path), "--out", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out must name another file than --model" in err
    assert path.read_bytes() == before


def test_show_samples_beyond_the_bound_is_a_usage_error(capsys):
    assert cli.main(["show", "weights", "--samples", "100000000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "1000000" in err
