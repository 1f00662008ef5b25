"""One run, one recipe: ``RunConfig``'s table is the one home of every setting of a run.

Every setting's default and rule, looped over the table; one message for a bad value from
``RunConfig``, ``zerodl train``, ``zerodl sweep --set`` and the playground; bit-identical
training through every face; JSON round trips; old sweep records still read. The
vocabulary (``zerodl.core.settings``) and the optimizers' tables are checked here too.
"""
import inspect
import json
import warnings

import numpy as np
import pytest

import zerodl
from zerodl import RunConfig
from zerodl.cli import main
from zerodl.core.settings import Boolean, Interval, OneOf, Options, Pair, Sizes
from zerodl.optimizers import OPTIMIZERS
from zerodl.recipe import SETTINGS
from zerodl import sweeps

BAD = "not-a-setting"       # a value that every rule refuses


# -- the table ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(SETTINGS))
def test_every_setting_has_its_default_help_and_rule(name):
    setting = SETTINGS[name]
    assert setting.help
    default = RunConfig()
    assert getattr(default, name) == setting.rule.check(name, setting.default)
    assert default.to_dict()[name] == setting.rule.to_json(setting.default)
    with pytest.raises(ValueError) as refused:
        RunConfig(**{name: BAD})
    # The rule's words: its description, or for a plain number check_number's "a real number".
    plain_number = isinstance(setting.rule, Interval) and setting.rule.kind is float
    rule = "a real number" if plain_number else setting.rule.describe()
    assert str(refused.value) == f"{name} must be {rule}; got {BAD!r}."


@pytest.mark.parametrize("name", [n for n, s in SETTINGS.items()
                                  if not isinstance(s.rule, Boolean)])
def test_every_setting_is_an_option_of_zerodl_train_with_the_same_message(name, capsys):
    with pytest.raises(ValueError) as refused:
        RunConfig(**{name: BAD})
    assert main(["train", f"--{name.replace('_', '-')}", BAD]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"argument --{name.replace('_', '-')}: {refused.value}" in err


def test_the_course_defaults_of_zerodl_train_are_kept():
    config = RunConfig().resolved()
    assert config.network() == (784, 40, 10) and config.activation == "relu"
    assert config.output == "softmax" and config.init == 0.01
    assert config.optimizer == "sgd" and config.lr == 0.1 and RunConfig().lr is None
    assert config.batch_size == 100 and config.iters == 1000 and config.epochs is None
    assert config.seed == 0 and config.n_train is None and config.noise is None
    assert RunConfig(optimizer="adam").resolved().lr == 0.001      # the optimizer's own
    toy = RunConfig(dataset="moons", output="sigmoid").resolved()
    assert toy.network() == (2, 16, 1) and (toy.n_train, toy.n_test, toy.noise) == (200, 200, 0.1)


@pytest.mark.parametrize("settings, message", [
    ({"lr": -1}, "lr must be a number in (0.0, inf) or None; got -1."),
    ({"batch_size": 2.5}, "batch_size must be an integer >= 1; got 2.5."),
    ({"layers": "784-x-10"}, "layers must be sizes joined by '-'"),
    ({"layers": [2, 8, 2]}, "layers must go from 784 inputs to 10 outputs for mnist"),
    ({"dataset": "moons", "layers": "2-8-3"}, "layers must go from 2 inputs to 2 outputs"),
    ({"dataset": "plane"}, "output must be 'identity' for the regression data set 'plane'"),
    ({"epochs": 2, "iters": 3}, "give epochs or iters, not both; got epochs=2 and iters=3."),
    ({"noise": 0.2}, "noise is a setting of the toy data sets, not of MNIST; got noise=0.2."),
    ({"lr_gamma": 0.5}, "lr_gamma needs lr_schedule"),
    ({"lr_schedule": "exponential", "lr_step_size": 2},
     "step_size is not used by the 'exponential' schedule"),
    ({"activation": "step"}, "activation must not be 'step' with hidden layers"),
    ({"learning_rate": 0.1}, "RunConfig has an unknown setting 'learning_rate'; valid names"),
])
def test_bad_settings_are_refused_naming_the_setting_rule_and_value(settings, message):
    with pytest.raises(ValueError) as refused:
        RunConfig(**settings)
    assert message in str(refused.value)


def test_a_setting_no_builder_has_yet_is_refused_until_mlp_takes_it():
    for name, value in (("dropout", 0.5), ("batch_norm", True), ("weight_decay", 1e-4)):
        if name in inspect.signature(zerodl.mlp).parameters:
            continue                       # the network builder has it now
        with pytest.raises(ValueError, match=f"^{name} must be"):
            RunConfig(**{name: value})


# -- the value ---------------------------------------------------------------------------

def test_to_dict_and_from_dict_round_trip_through_json():
    config = RunConfig(dataset="spiral", layers="2-8-8-2", init="he", optimizer="adam",
                       lr=0.01, epochs=3, lr_schedule="step", lr_step_size=2, n_train=50,
                       noise=0.2, clip_norm=1.0, seed=7)
    text = json.dumps(config.to_dict())
    again = RunConfig.from_dict(json.loads(text))
    assert again == config and hash(again) == hash(config)
    assert again.layers == (2, 8, 8, 2) and json.loads(text)["layers"] == [2, 8, 8, 2]
    assert RunConfig.from_dict({}) == RunConfig()          # missing settings: defaults
    with pytest.raises(ValueError, match="config has an unknown setting 'speed'"):
        RunConfig.from_dict({"speed": 2})


def test_replace_makes_a_checked_copy_and_the_config_is_frozen():
    config = RunConfig(dataset="moons")
    faster = config.replace(lr=0.5)
    assert faster.lr == 0.5 and config.lr is None and faster.dataset == "moons"
    with pytest.raises(ValueError, match="lr must be"):
        config.replace(lr=0)
    with pytest.raises(AttributeError, match="frozen"):
        config.lr = 0.5
    assert repr(faster) == "RunConfig(dataset='moons', lr=0.5)"


def test_steps_are_counted_in_one_place():
    config = RunConfig(batch_size=32, epochs=3)
    assert config.steps_per_epoch(100) == 4              # 32 + 32 + 32 + 4
    assert config.steps_per_epoch(10) == 1               # a batch larger than the data
    assert config.total_steps(100) == 12
    assert RunConfig(iters=7).total_steps(100) == 7 and RunConfig().total_steps(100) == 1000


# -- one message from every face ---------------------------------------------------------

def _playground_client():
    pytest.importorskip("starlette", reason="the playground extra is not installed")
    pytest.importorskip("httpx", reason="Starlette's test client needs httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from zerodl.playground.server import create_app

    return TestClient(create_app("127.0.0.1", 8765), base_url="http://127.0.0.1:8765")


def _post(client, path, body):
    return client.post(path, content=json.dumps(body),
                       headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("name, value, text", [
    ("lr", -1.0, "-1"), ("batch_size", 0, "0"), ("optimizer", "adamax", "adamax"),
    ("activation", "swish", "swish"), ("noise", -0.5, "-0.5"),
])
def test_a_bad_value_gets_one_message_from_every_face(name, value, text, capsys):
    dataset = {"dataset": "moons"} if name == "noise" else {}
    with pytest.raises(ValueError) as refused:
        RunConfig(**dataset, **{name: value})
    message = str(refused.value)
    assert message.startswith(f"{name} must be ") and message.endswith(f"; got {value!r}.")
    flag = f"--{name.replace('_', '-')}"
    assert main(["train", *(["--dataset", "moons"] if dataset else []), flag, text]) == 2
    assert message in capsys.readouterr().err
    assert main(["sweep", "--grid", "init=he", "--dataset", "moons", "--set",
                 f"{name}={text}"]) == 2
    assert message in capsys.readouterr().err
    with _playground_client() as client:
        response = _post(client, "/api/config", {name: value})
        assert response.status_code == 400 and response.json()["error"] == message


def test_the_playground_says_which_limits_are_its_own():
    with _playground_client() as client:
        error = _post(client, "/api/config", {"lr": 100.0}).json()["error"]
        assert error == ("lr must be a number in [1e-06, 10.0] in the playground (a limit of "
                         "its page); got 100.0.")
        RunConfig(lr=100.0)                           # a run may have it, the page may not
        error = _post(client, "/api/config", {"hidden": [9]}).json()["error"]
        assert error.startswith("hidden[0] must be an integer in [1, 8] in the playground")


# -- one run through every face ------------------------------------------------------------

RUN = dict(dataset="moons", layers=[2, 6, 2], activation="tanh", init="xavier",
           optimizer="adam", lr=0.05, batch_size=16, iters=30, seed=3, n_train=60, n_test=40,
           noise=0.1)


def test_one_config_gives_bit_identical_weights_through_every_face(tmp_path, capsys):
    config = RunConfig(**RUN)
    model, history = config.train(verbose=0)
    # zerodl train --save
    argv = ["train", "--save", str(tmp_path / "m.npz"), "--plot", str(tmp_path / "c.png"),
            "--quiet"]
    for name, value in RUN.items():
        argv += [f"--{name.replace('_', '-')}",
                 "-".join(map(str, value)) if isinstance(value, list) else str(value)]
    assert main(argv) == 0, capsys.readouterr().err
    saved = zerodl.load(tmp_path / "m.npz")
    for key, p in model.params.items():
        np.testing.assert_array_equal(saved.params[key], p)
    # a sweep run: its record's numbers are those of the same training
    grid = {"lr": [RUN["lr"]]}
    base = {k: v for k, v in RUN.items() if k not in ("dataset", "seed", "lr")}
    record = sweeps.sweep(grid, base=base, dataset="moons", seeds=[3], verbose=0).results[0]
    assert RunConfig.from_dict({**record["config"], "seed": 3}) == config.resolved()
    assert record["history"]["loss"] == history.history["loss"]
    assert record["test"] == model.evaluate(*config.load_data()[1])
    # the playground, stepping as many batches through its API
    with _playground_client() as client:
        page = {"dataset": "moons", "noise": 0.1, "n_samples": 100, "train_ratio": 0.6,
                "hidden": [6], "activation": "tanh", "init": "xavier", "optimizer": "adam",
                "lr": 0.05, "batch_size": 16, "seed": 3}
        assert _post(client, "/api/config", page).status_code == 200
        session = client.app.state.playground.session
        assert session.config.run_config() == config.replace(iters=None)   # it steps
        assert _post(client, "/api/control", {"action": "step", "steps": 30}).json()["step"] == 30
        for key, p in model.params.items():
            np.testing.assert_array_equal(session.model.params[key], p)


# -- sweeps read RunConfig and old records ------------------------------------------------

def test_an_old_sweep_record_still_counts_as_done(tmp_path, monkeypatch):
    base = {"layers": "2-6-2", "iters": 5, "batch_size": 20, "n_train": 60, "n_test": 50}
    config = sweeps.expand({"lr": [0.1]}, base=base, dataset="moons")[0]
    old = {key: value for key, value in config.items()      # the keys records had before
           if key in ("layers", "activation", "output", "init", "optimizer", "lr",
                      "batch_size", "epochs", "iters", "lr_schedule", "clip_norm", "n_train",
                      "n_test", "noise", "dataset")}
    record = {"config": old, "seed": 0, "history": {"epoch": [1], "loss": [0.5]},
              "curve": {"step": [5], "loss": [0.5]}, "test": {"loss": 0.5, "accuracy": 0.5},
              "seconds": 0.1, "worker": "local"}
    out = tmp_path / "old.jsonl"
    out.write_text(json.dumps(record) + "\n")
    calls = []
    monkeypatch.setattr(sweeps, "run_one", lambda c, s: calls.append(c))
    result = sweeps.sweep({"lr": [0.1]}, base=base, dataset="moons", out=out, verbose=0)
    assert calls == [] and result.results == [record]


# -- the vocabulary and the optimizers' tables ---------------------------------------------

def test_rules_say_what_they_accept_in_the_house_words():
    assert Interval(float, 0, 1, closed="left").describe() == "a number in [0.0, 1.0)"
    assert Interval(float, 0, None, closed="neither").describe() == "a number in (0.0, inf)"
    assert Interval(int, 1).describe() == "an integer >= 1"
    assert Interval(int, 1, 8).describe() == "an integer in [1, 8]"
    assert OneOf(None, Options(["a", "b"])).describe() == "one of a, b or None"
    assert Options(["relu"]).check("activation", "ReLU") == "relu"
    assert Sizes().check("layers", "784-40-10") == (784, 40, 10)
    assert Pair(Interval(float, 0, 1), "(beta1, beta2)").check("betas", [0.5, 1]) == (0.5, 1.0)
    assert OneOf(None, Interval(float, 0)).parse("none") is None
    assert OneOf(Options(["he"]), Interval(float, 0)).parse("0.01") == 0.01
    assert Boolean().parse("yes") is True
    with pytest.raises(TypeError, match=r"^x must be a real number; got '1'\.$"):
        Interval(float, 0).check("x", "1")
    with pytest.raises(ValueError, match=r"^x must be an integer in \[1, 8\]; got 9\.$"):
        Interval(int, 1, 8).check("x", 9)


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_each_optimizer_declares_its_settings_once(name):
    cls = OPTIMIZERS.get(name)
    parameters = inspect.signature(cls.__init__).parameters
    optimizer = cls()
    assert list(cls.settings) == list(optimizer.get_config())
    for key, setting in cls.settings.items():
        assert setting.default == parameters[key].default       # read from the signature
        assert setting.help
        with pytest.raises((TypeError, ValueError),
                           match=rf"^{key}\b.* must be .*; got {BAD!r}\.$"):
            cls(**{key: BAD})
