"""The playground's server through Starlette's test client: configurations accepted and
refused, the event stream, play / pause / step / reset, the trace and the Host/Origin guard."""
import json
import threading
import time
import warnings

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")
pytest.importorskip("httpx", reason="Starlette's test client needs httpx")
with warnings.catch_warnings():     # newer Starlette suggests httpx2; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from zerodl.datasets import MNISTUnavailable  # noqa: E402
from zerodl.playground.server import create_app  # noqa: E402
from zerodl.playground.config import PlaygroundConfig, parse_config  # noqa: E402
from zerodl.playground.session import TrainingSession, make_data  # noqa: E402

BASE = "http://127.0.0.1:8765"


def fake_mnist():
    """A stand-in for load_mnist: 300 + 100 random 'images' of 784 pixels, labels 0..9."""
    rng = np.random.default_rng(5)
    x = rng.random((400, 784), dtype=np.float32)
    d = np.arange(400) % 10
    return (x[:300], d[:300]), (x[300:], d[300:])


def no_mnist():
    raise MNISTUnavailable("no copy of MNIST here (test)", [("test", "none")])


@pytest.fixture
def client():
    app = create_app("127.0.0.1", 8765, mnist_loader=fake_mnist)
    with TestClient(app, base_url=BASE) as c:
        yield c


def post(client, path, body):
    return client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})


def snapshot(client):
    response = client.get("/api/snapshot")
    assert response.status_code == 200
    return response.json()


def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    for name in ("app.js", "controls.js", "draw.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/../session.py").status_code == 404


def test_options_list_the_choices(client):
    options = client.get("/api/options").json()
    assert "spiral" in options["datasets"] and "mnist" in options["datasets"]
    assert set(options["inits"]) == {"0.01", "xavier", "he"}
    assert "adam" in options["optimizers"] and "sgd" in options["optimizers"]
    assert options["limits"]["hidden_layers"] == 6


@pytest.mark.parametrize("body", [
    {"dataset": "circle", "hidden": [3], "activation": "tanh", "init": "0.01",
     "optimizer": "sgd", "lr": 0.1, "batch_size": 5, "n_samples": 100, "noise": 0.1},
    {"dataset": "xor", "hidden": []},
    {"dataset": "moons", "hidden": [8, 8, 8, 8, 8, 8], "init": "xavier", "optimizer": "momentum"},
    {"dataset": "mnist", "hidden": [128], "n_samples": 400, "train_ratio": 0.75},
])
def test_configs_accepted(client, body):
    response = post(client, "/api/config", body)
    assert response.status_code == 200, response.text
    snap = snapshot(client)
    assert snap["config"]["dataset"] == body["dataset"]
    assert snap["sizes"][1:-1] == body["hidden"]
    assert snap["step"] == 0
    if body["dataset"] == "mnist":
        assert snap["kind"] == "mnist" and snap["sizes"][0] == 784
        assert len(snap["w1_images"]) == 32
        cm = np.array(snap["confusion"])
        assert cm.shape == (10, 10) and cm.sum() == 100       # every test sample counted once
    else:
        assert snap["kind"] == "plane"
        assert len(snap["train_points"]) + len(snap["test_points"]) == body.get("n_samples", 400)
        assert [len(layer) for layer in snap["neurons"]] == body["hidden"]


@pytest.mark.parametrize("body, words", [
    ({"dataset": "iris"}, "dataset must be one of"),
    ({"dataset": "../../etc/passwd"}, "dataset must be one of"),
    ({"hidden": [8] * 7}, "at most 6"),
    ({"hidden": [9]}, "hidden[0] must be an integer in [1, 8]"),
    ({"dataset": "mnist", "hidden": [129]}, "hidden[0] must be an integer in [1, 128]"),
    ({"hidden": [0]}, "hidden[0]"),
    ({"hidden": "8,8"}, "hidden must be a list"),
    ({"hidden": [2.5]}, "hidden[0] must be an integer"),
    ({"lr": -1}, "lr must be a number"),
    ({"lr": "0.1"}, "lr must be a number"),
    ({"lr": 1e9}, "lr must be a number"),
    ({"batch_size": True}, "batch_size must be an integer"),
    ({"batch_size": 500}, "batch_size must be an integer in [1, 200]"),
    ({"n_samples": 10 ** 7}, "n_samples must be an integer in [20, 2000]"),
    ({"noise": 3}, "noise must be a number"),
    ({"train_ratio": 1.0}, "train_ratio"),
    ({"activation": "step"}, "activation must be one of"),
    ({"init": "ones"}, "init must be one of"),
    ({"optimizer": "__import__('os')"}, "optimizer must be one of"),
    ({"seed": -1}, "seed must be an integer"),
    ({"path": "/tmp/x"}, "unknown configuration field"),
    ([1, 2], "must be a JSON object"),
])
def test_configs_refused_with_a_message(client, body, words):
    before = snapshot(client)["config"]
    response = post(client, "/api/config", body)
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert snapshot(client)["config"] == before        # the running session is kept


def test_requests_must_be_small_json(client):
    assert client.post("/api/config", content=b"{}",
                       headers={"Content-Type": "text/plain"}).status_code == 400
    bad = client.post("/api/config", content=b"{not json",
                      headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]
    big = post(client, "/api/config", {"hidden": [1] * 20000})
    assert big.status_code == 400 and "at most" in big.json()["error"]


def test_mnist_unavailable_gets_a_clear_message():
    app = create_app("127.0.0.1", 8765, mnist_loader=no_mnist)
    with TestClient(app, base_url=BASE) as c:
        response = post(c, "/api/config", {"dataset": "mnist"})
        assert response.status_code == 503
        assert "MNIST is not available" in response.json()["error"]
        assert snapshot(c)["config"]["dataset"] == "spiral"


def test_step_trains_exactly_the_asked_batches(client):
    assert post(client, "/api/control", {"action": "step"}).json()["step"] == 1
    assert snapshot(client)["step"] == 1
    assert post(client, "/api/control", {"action": "step", "steps": 7}).json()["step"] == 8
    snap = snapshot(client)
    assert snap["step"] == 8 and snap["curves"]["step"][-1] == 8
    # 200 training samples, batch 10: 8 batches are 0.4 of an epoch and none completed.
    assert snap["epoch"] == 0 and snap["epoch_progress"] == pytest.approx(0.4)


def test_step_is_one_train_step_of_the_model():
    """The playground's step is model.train_step on the batch fit would draw: each epoch a
    permutation from default_rng(seed)."""
    from zerodl import mlp
    from zerodl.optimizers import OPTIMIZERS

    config = parse_config({"dataset": "moons", "hidden": [4, 3], "optimizer": "sgd", "lr": 0.5,
                           "batch_size": 16, "activation": "tanh", "init": "xavier"})
    session = TrainingSession(config, make_data(config))
    twin = mlp([2, 4, 3, 2], activation="tanh", init="xavier", seed=config.seed)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(session.x_train))
    session.advance(2)
    sgd = OPTIMIZERS.get("sgd")(lr=0.5)
    for batch in (order[:16], order[16:32]):
        twin.train_step(session.x_train[batch], session.d_train[batch], sgd)
    for key in twin.params:
        np.testing.assert_array_equal(session.model.params[key], twin.params[key])
    session.close()


def test_play_pause_and_reset(client):
    post(client, "/api/control", {"action": "play"})
    deadline = time.monotonic() + 30
    while snapshot(client)["step"] < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    post(client, "/api/control", {"action": "pause"})
    paused = snapshot(client)
    assert paused["status"] == "paused" and paused["step"] >= 50
    time.sleep(0.3)
    assert snapshot(client)["step"] == paused["step"]           # paused means no training
    assert paused["curves"]["step"][-1] == paused["step"]
    session = client.app.state.playground.session
    assert post(client, "/api/control", {"action": "reset"}).json()["step"] == 0
    assert not session.thread_alive                             # the old thread has ended
    snap = snapshot(client)
    assert snap["step"] == 0 and snap["curves"]["step"] == [0]
    assert snap["config"] == paused["config"]


@pytest.mark.parametrize("body", [{"action": "jump"}, {"action": "step", "steps": 0},
                                  {"action": "step", "steps": 10 ** 6}, {"action": "step",
                                  "steps": "3"}, {"go": "play"}, "play"])
def test_control_refuses_bad_commands(client, body):
    response = post(client, "/api/control", body)
    assert response.status_code == 400 and response.json()["error"]
    assert snapshot(client)["step"] == 0


def test_stream_sends_snapshots_as_events(client):
    post(client, "/api/control", {"action": "step", "steps": 3})
    with client.stream("GET", "/api/stream?limit=1") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = [block for block in text.split("\n\n") if block.strip()]
    assert len(events) == 1
    lines = events[0].split("\n")
    assert lines[0] == "event: snapshot" and lines[1].startswith("data: ")
    snap = json.loads(lines[1][len("data: "):])
    assert snap["step"] == 3 and snap["kind"] == "plane"
    import base64
    from zerodl.playground.session import BOUNDARY_GRID
    assert len(base64.b64decode(snap["boundary"])) == snap["boundary_grid"] ** 2 == BOUNDARY_GRID ** 2


def test_stream_follows_training_without_a_backlog(client):
    """While training runs, each event is a newer snapshot: readers skip, never queue."""
    post(client, "/api/control", {"action": "play"})
    with client.stream("GET", "/api/stream?limit=4") as response:
        text = "".join(response.iter_text())
    post(client, "/api/control", {"action": "pause"})
    steps = [json.loads(block.split("data: ", 1)[1])["step"]
             for block in text.split("\n\n") if block.strip()]
    assert len(steps) == 4 and steps == sorted(steps) and len(set(steps[1:])) == 3


def test_stream_limit_is_checked(client):
    assert client.get("/api/stream?limit=abc").status_code == 400


def test_trace_gives_the_course_quantities(client):
    post(client, "/api/config", {"dataset": "xor", "hidden": [3], "activation": "sigmoid"})
    post(client, "/api/control", {"action": "step", "steps": 5})
    trace = post(client, "/api/trace", {"set": "test", "index": 2}).json()
    model = client.app.state.playground.session.model
    x = np.array([trace["x"]], dtype=np.float32)
    u1, z1, u2 = model.layer_outputs(x)
    np.testing.assert_allclose(trace["u"][0], u1[0], atol=1e-4)
    np.testing.assert_allclose(trace["z"][0], z1[0], atol=1e-4)
    np.testing.assert_allclose(trace["y"], model.predict(x)[0], atol=1e-4)
    d = np.eye(2)[trace["d"]]
    np.testing.assert_allclose(trace["du"][1], model.predict(x)[0] - d, atol=1e-5)
    # dE/du1 = (dE/du2 W2^T) * z1 (1 - z1) for sigmoid: the course's backpropagation.
    expected = (np.array(trace["du"][1]) @ model.params["W2"].T) * z1[0] * (1 - z1[0])
    np.testing.assert_allclose(trace["du"][0], expected, atol=1e-5)
    assert trace["loss"] == pytest.approx(-np.log(model.predict(x)[0][trace["d"]]), rel=1e-4)


@pytest.mark.parametrize("body", [{"set": "train", "index": 10 ** 6}, {"set": "all", "index": 0},
                                  {"set": "test", "index": -1}, {"set": "test", "index": 1.0},
                                  {"set": "test"}])
def test_trace_refuses_bad_requests(client, body):
    response = post(client, "/api/trace", body)
    assert response.status_code == 400 and response.json()["error"]


@pytest.mark.parametrize("headers", [{"Host": "evil.example:8765"}, {"Host": "127.0.0.1:9999"},
                                     {"Origin": "http://evil.example"},
                                     {"Origin": "http://127.0.0.1:9999"}])
def test_foreign_host_or_origin_is_refused(client, headers):
    for method, path in (("GET", "/"), ("GET", "/api/snapshot"), ("POST", "/api/control")):
        response = client.request(method, path, headers={**headers,
                                                         "Content-Type": "application/json"},
                                  content=json.dumps({"action": "step"}))
        assert response.status_code == 403, (method, path, headers)
        assert "refused" in response.json()["error"]
    assert snapshot(client)["step"] == 0


def test_own_origin_and_localhost_are_allowed(client):
    response = client.post("/api/control", content=json.dumps({"action": "step"}),
                           headers={"Content-Type": "application/json", "Origin": BASE})
    assert response.status_code == 200
    assert client.get("/api/snapshot", headers={"Host": "localhost:8765"}).status_code == 200


def test_closing_ends_the_training_thread():
    app = create_app("127.0.0.1", 8765)
    with TestClient(app, base_url=BASE) as c:
        post(c, "/api/control", {"action": "play"})
        session = app.state.playground.session
        assert session.thread_alive
    # Leaving the client runs the app's shutdown.
    session._thread.join(5)
    assert not session.thread_alive
    assert not any(t.name == "zerodl-playground" and t.is_alive() for t in threading.enumerate())


def test_default_config_is_the_dataclass():
    assert parse_config({}) == PlaygroundConfig()


def test_plane_snapshot_weights_are_the_models(client):
    post(client, "/api/control", {"action": "step", "steps": 4})
    snap = snapshot(client)
    model = client.app.state.playground.session.model
    assert len(snap["weights"]) == len(model.dense) == 4
    for W, layer in zip(snap["weights"], model.dense):
        np.testing.assert_allclose(W, layer.W, atol=5e-4)


def test_allowed_hosts():
    from zerodl.playground.server import allowed_hosts

    assert allowed_hosts("127.0.0.1", 80) == {"127.0.0.1:80", "localhost:80", "[::1]:80"}
    assert allowed_hosts("192.168.1.5", 8000) == {"192.168.1.5:8000"}
    assert {"127.0.0.1:8000", "localhost:8000"} <= allowed_hosts("0.0.0.0", 8000)


def test_boundary_and_neuron_maps_are_the_models_outputs(client):
    import base64
    from zerodl.playground.session import grid_points

    post(client, "/api/config", {"dataset": "circle", "hidden": [3, 2], "activation": "tanh"})
    post(client, "/api/control", {"action": "step", "steps": 20})
    snap = snapshot(client)
    model = client.app.state.playground.session.model
    lo, hi = np.array(snap["lo"]), np.array(snap["hi"])
    n = snap["boundary_grid"]
    grid = grid_points(lo, hi, n)
    assert grid[0].tolist() == pytest.approx([lo[0] + (hi[0] - lo[0]) / (2 * n),
                                              hi[1] - (hi[1] - lo[1]) / (2 * n)], abs=1e-4)
    boundary = np.frombuffer(base64.b64decode(snap["boundary"]), np.uint8)
    expected = np.round(model.predict(grid)[:, 1] * 255)
    assert np.max(np.abs(boundary - expected)) <= 1
    m = snap["neuron_grid"]
    z1 = model.layer_outputs(grid_points(lo, hi, m))[1]          # Dense, Tanh, Dense, ...
    for k in range(3):
        neuron = snap["neurons"][0][k]
        q = np.frombuffer(base64.b64decode(neuron["map"]), np.uint8)
        assert neuron["max"] == pytest.approx(np.abs(z1[:, k]).max(), abs=1e-4)
        np.testing.assert_allclose(q / 127.5 - 1, z1[:, k] / neuron["max"], atol=0.01)
