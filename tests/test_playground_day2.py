"""The playground's TF-Playground controls on the server: features, regression, a sigmoid
output, L1 / L2 and dropout; each one's values checked by hand or against RunConfig.train."""
import json
import warnings

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")
pytest.importorskip("httpx", reason="Starlette's test client needs httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from zerodl import RunConfig  # noqa: E402
from zerodl.playground.config import FEATURES, parse_config  # noqa: E402
from zerodl.playground.features import feature_inputs, gauss_mix  # noqa: E402
from zerodl.playground.server import create_app  # noqa: E402
from zerodl.playground.session import TrainingSession, make_data  # noqa: E402

BASE = "http://127.0.0.1:8765"


@pytest.fixture
def client():
    with TestClient(create_app("127.0.0.1", 8765), base_url=BASE) as c:
        yield c


def post(client, path, body):
    return client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})


def session_of(raw, steps=0):
    config = parse_config(raw)
    session = TrainingSession(config, make_data(config))
    if steps:
        session.advance(steps)
    return session


def test_options_list_the_new_choices(client):
    options = client.get("/api/options").json()
    assert options["features"] == list(FEATURES)
    assert options["regularizations"] == ["none", "L1", "L2"]
    assert options["regression_sets"] == ["plane", "reg-gauss"]
    assert options["outputs"] == ["softmax", "sigmoid"]
    assert options["defaults"]["features"] == ["x1", "x2"]


def test_features_are_the_networks_inputs():
    points = np.array([[0.5, -2.0], [1.0, 3.0]], dtype=np.float32)
    x = feature_inputs(points, FEATURES)
    expected = [[0.5, -2.0, 0.25, 4.0, -1.0, np.sin(0.5), np.sin(-2.0)],
                [1.0, 3.0, 1.0, 9.0, 3.0, np.sin(1.0), np.sin(3.0)]]
    np.testing.assert_allclose(x, expected, rtol=1e-6)
    session = session_of({"dataset": "circle", "features": ["x1*x2", "x1"]})
    assert session.config.features == ("x1", "x1*x2")              # FEATURES' order
    assert session.model.n_in == 2
    np.testing.assert_array_equal(session.x_train[:, 1],
                                  session.data.x_train[:, 0] * session.data.x_train[:, 1])
    snap = json.loads(session.latest()[1])
    assert [i["name"] for i in snap["inputs"]] == ["x1", "x1*x2"]
    assert snap["sizes"][0] == 2
    session.close()


@pytest.mark.parametrize("change", [{"features": ["x1", "x2", "x1*x2"]},
                                    {"regularization": "L2", "regularization_rate": 0.03},
                                    {"regularization": "L1", "regularization_rate": 0.03},
                                    {"dropout": 0.5}])
def test_each_control_changes_training(change):
    base = {"dataset": "xor", "hidden": [4], "seed": 1}
    plain, changed = session_of(base, 30), session_of({**base, **change}, 30)
    assert any(not np.array_equal(plain.model.params[k], changed.model.params[k])
               for k in plain.model.params if k in changed.model.params
               and plain.model.params[k].shape == changed.model.params[k].shape)
    assert plain.curves["train_loss"][-1] != changed.curves["train_loss"][-1]
    plain.close()
    changed.close()


@pytest.mark.parametrize("kind, penalty", [
    ("L2", lambda W, r: 0.5 * r * np.sum(W.astype(np.float64) ** 2)),     # TF's 0.5 r w^2
    ("L1", lambda W, r: r * np.sum(np.abs(W.astype(np.float64)))),
])
def test_the_loss_shown_includes_the_penalty(kind, penalty):
    rate = 0.01
    session = session_of({"dataset": "moons", "hidden": [5, 3], "regularization": kind,
                          "regularization_rate": rate}, 5)
    expected = sum(penalty(layer.W, rate) for layer in session.model.dense)
    snap = json.loads(session.latest()[1])
    assert snap["penalty"] == pytest.approx(expected, rel=1e-4)
    data_loss = session.model.output.loss(session.model.forward(session.x_test),
                                          session.d_test)
    assert snap["test_loss"] == pytest.approx(data_loss + expected, rel=1e-3)
    trace = session.trace("train", 0)
    assert trace["penalty"] == pytest.approx(expected, rel=1e-4)
    assert trace["total"] == pytest.approx(trace["loss"] + trace["penalty"], abs=1e-5)
    session.close()


@pytest.mark.parametrize("page, run", [
    ({"output": "sigmoid"}, {"output": "sigmoid", "layers": [2, 6, 1]}),
    ({"regularization": "L2", "regularization_rate": 0.01}, {"weight_decay": 0.01}),
    ({"dropout": 0.3}, {"dropout": 0.3}),
])
def test_runconfig_settings_train_bit_identically_to_RunConfig_train(page, run):
    session = session_of({"dataset": "moons", "noise": 0.1, "n_samples": 100,
                          "train_ratio": 0.6, "hidden": [6], "activation": "tanh",
                          "optimizer": "adam", "lr": 0.05, "batch_size": 16, "seed": 3,
                          **page}, 30)
    config = RunConfig(**{"dataset": "moons", "layers": [2, 6, 2], "activation": "tanh",
                          "init": "he", "optimizer": "adam", "lr": 0.05, "batch_size": 16,
                          "iters": 30, "seed": 3, "n_train": 60, "n_test": 40, "noise": 0.1,
                          **run})
    model, _ = config.train(verbose=0)
    for key, p in model.params.items():
        np.testing.assert_array_equal(session.model.params[key], p)
    session.close()


def test_a_sigmoid_output_is_one_unit_with_binary_cross_entropy():
    session = session_of({"dataset": "gaussian", "output": "sigmoid", "hidden": [3]}, 50)
    assert session.model.n_out == 1
    y = session.model.predict(session.x_test)[:, 0]
    d = session.data.d_test
    bce = -np.mean(d * np.log(y) + (1 - d) * np.log(1 - y))
    assert session.curves["test_loss"][-1] == pytest.approx(bce, rel=1e-4)
    assert session.trace("test", 0)["predicted"] == int(y[0] >= 0.5)
    session.close()


def test_regression_on_the_plane_learns_and_draws_a_continuous_scale(client):
    body = {"dataset": "plane", "hidden": [4], "lr": 0.03, "batch_size": 10}
    assert post(client, "/api/config", body).json()["config"]["output"] == "identity"
    post(client, "/api/control", {"action": "step", "steps": 1000})
    snap = client.get("/api/snapshot").json()
    assert snap["problem"] == "regression" and snap["test_loss"] < 0.01
    assert snap["test_accuracy"] is None
    low, high = snap["boundary_range"]
    assert low == pytest.approx(min(snap["train_labels"] + snap["test_labels"]), abs=1e-3)
    assert high == pytest.approx(max(snap["train_labels"] + snap["test_labels"]), abs=1e-3)
    trace = post(client, "/api/trace", {"set": "test", "index": 0}).json()
    assert isinstance(trace["d"], float) and isinstance(trace["predicted"], float)


def test_the_gaussian_mix_is_the_formula_and_seeded():
    x, y = gauss_mix(5, 0.0, np.random.default_rng(0))
    x64 = x.astype(np.float64)
    bumps = [(-0.5, 0.5, 1), (0.5, 0.5, -1), (-0.5, -0.5, -1), (0.5, -0.5, 1), (0, 0, 0.5)]
    expected = sum(s * np.exp(-((x64[:, 0] - a) ** 2 + (x64[:, 1] - b) ** 2) / (2 * 0.25 ** 2))
                   for a, b, s in bumps)
    np.testing.assert_allclose(y[:, 0], expected, rtol=1e-5, atol=1e-6)
    one, two = (make_data(parse_config({"dataset": "reg-gauss", "seed": 4})) for _ in range(2))
    np.testing.assert_array_equal(one.x_train, two.x_train)
    assert not np.array_equal(one.x_train, one.x_test)


@pytest.mark.parametrize("body, words", [
    ({"features": []}, "features must be a non-empty list of distinct names from x1, x2"),
    ({"features": ["x1", "x1"]}, "features must be a non-empty list"),
    ({"features": [{"a": 1}]}, "features must be a non-empty list"),
    ({"dataset": "mnist", "features": ["x1"]}, "features must be x1, x2 for mnist"),
    ({"regularization": "L3"}, "regularization must be one of none, L1, L2 in the playground"),
    ({"regularization_rate": 11}, "regularization_rate must be a number in [0.0, 10.0] in the"),
    ({"dropout": 0.95}, "dropout must be a number in [0.0, 0.9] in the playground"),
    ({"dropout": 1.0}, "dropout must be a number in [0.0, 1.0); got 1.0."),   # RunConfig's
    ({"dataset": "plane", "output": "softmax"}, "output must be one of identity in the"),
    ({"dataset": "spiral", "output": "identity"}, "output must be one of softmax, sigmoid in"),
    ({"dataset": "mnist", "output": "sigmoid"}, "output must be one of softmax in the"),
])
def test_new_fields_refused_with_a_message(client, body, words):
    response = post(client, "/api/config", body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(words), response.json()["error"]


def test_speed_caps_the_steps_between_snapshots():
    session = session_of({"dataset": "xor", "n_samples": 40})
    session.set_speed(3)
    seen = []
    session.play()
    while len(seen) < 15:
        version, text = session.latest()
        if not seen or version != seen[-1][0]:
            seen.append((version, json.loads(text)["step"]))
    session.pause()
    session.close()
    # Between two snapshots in a row (the reader may miss some), at most 3 steps.
    gaps = [b[1] - a[1] for a, b in zip(seen, seen[1:]) if b[0] == a[0] + 1]
    assert gaps and max(gaps) <= 3


def test_speed_is_a_control_action(client):
    assert post(client, "/api/control", {"action": "speed", "steps": 5}).status_code == 200
    assert client.app.state.playground.session.steps_per_frame == 5
    post(client, "/api/control", {"action": "reset"})
    assert client.app.state.playground.session.steps_per_frame == 5      # kept
    post(client, "/api/control", {"action": "speed"})
    assert client.app.state.playground.session.steps_per_frame is None
