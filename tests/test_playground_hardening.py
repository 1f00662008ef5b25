"""The playground under stress: step requests that can be stopped and do not pile up, valid
JSON after a divergence, concurrent requests, hostile bodies and query strings."""
import json
import threading
import time
import warnings

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")
pytest.importorskip("httpx", reason="Starlette's test client needs httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from zerodl.playground.server import Playground, create_app  # noqa: E402
from zerodl.playground.config import Busy, parse_config  # noqa: E402
from zerodl.playground.session import TrainingSession, make_data  # noqa: E402

BASE = "http://127.0.0.1:8765"


def big_mnist():
    """A stand-in for MNIST, large enough that 1000 steps take many seconds."""
    rng = np.random.default_rng(1)
    x = rng.random((1200, 784), dtype=np.float32)
    d = np.arange(1200) % 10
    return (x[:1000], d[:1000]), (x[1000:], d[1000:])


def slow_session() -> TrainingSession:
    config = parse_config({"dataset": "mnist", "n_samples": 1200, "train_ratio": 0.8,
                           "hidden": [128] * 6, "batch_size": 500})
    return TrainingSession(config, make_data(config, big_mnist))


def strict_json(text: str):
    """JSON as the page's JSON.parse reads it: NaN and Infinity refused."""
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def start_steps(session, steps=1000, **options):
    done = {}
    thread = threading.Thread(target=lambda: done.update(step=session.advance(steps, **options)))
    thread.start()
    deadline = time.monotonic() + 30
    while session.step < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    return thread, done


@pytest.mark.parametrize("stop", ["pause", "play", "close", "cancel"])
def test_a_long_step_request_stops_when_asked(stop):
    session = slow_session()
    cancel = threading.Event()
    thread, done = start_steps(session, cancel=cancel)
    if stop == "cancel":
        cancel.set()                    # what the server does when the client has gone
    else:
        getattr(session, stop)()
    thread.join(10)
    assert not thread.is_alive() and 1 <= done["step"] < 1000
    session.close()


def test_step_requests_do_not_pile_up():
    session = slow_session()
    thread, _ = start_steps(session)
    with pytest.raises(Busy, match="a step request is still training"):
        session.advance(5)
    session.pause()
    thread.join(10)
    assert session.advance(2) >= 3        # free again once the first one ended
    session.close()


def test_a_second_step_request_gets_409_over_http():
    app = create_app("127.0.0.1", 8765, mnist_loader=big_mnist)
    with TestClient(app, base_url=BASE) as client:
        post(client, "/api/config", {"dataset": "mnist", "n_samples": 1200, "train_ratio": 0.8,
                                     "hidden": [128] * 6, "batch_size": 500})
        session = app.state.playground.session
        thread, _ = start_steps(session)
        response = post(client, "/api/control", {"action": "step", "steps": 3})
        assert response.status_code == 409 and "still training" in response.json()["error"]
        assert post(client, "/api/control", {"action": "pause"}).status_code == 200
        thread.join(10)
        assert not thread.is_alive()


def test_divergence_stops_training_and_the_snapshot_stays_valid_json():
    config = parse_config({"dataset": "circle", "optimizer": "sgd", "lr": 10.0,
                           "activation": "identity"})
    session = TrainingSession(config, make_data(config))
    reached = session.advance(300)
    snap = strict_json(session.latest()[1])
    assert snap["error"] == "diverged" and "training diverged" in snap["error_detail"]
    assert reached < 300 and snap["step"] == reached
    assert all(np.isfinite(p).all() for p in session.model.params.values())   # rolled back
    assert session.advance(5) == reached                   # no more training after it
    session.play()
    assert session.status == "paused" and not session.thread_alive
    session.close()


def test_non_finite_numbers_are_sent_as_null():
    config = parse_config({"dataset": "xor"})
    session = TrainingSession(config, make_data(config))
    with session.lock:
        session.curves["test_loss"][-1] = float("inf")
        session.curves["train_loss"][-1] = float("nan")
        session._publish()
    snap = strict_json(session.latest()[1])
    assert snap["test_loss"] is None and snap["curves"]["train_loss"] == [None]
    session.close()


def test_closing_while_another_thread_plays_never_fails():
    """A config (which closes the old session) racing a play on that session: no error."""
    playground = Playground()
    errors = []

    def play_many():
        for _ in range(30):
            try:
                playground.session.play()
            except Exception as exc:        # noqa: BLE001 - the failure under test
                errors.append(exc)

    player = threading.Thread(target=play_many)
    player.start()
    for _ in range(30):
        playground.configure(parse_config({"dataset": "xor", "n_samples": 40}))
    player.join(30)
    playground.close()
    assert errors == []


def test_concurrent_config_and_play_requests_all_succeed():
    app = create_app("127.0.0.1", 8765)
    statuses = []
    with TestClient(app, base_url=BASE) as client:
        def send(path, body):
            for _ in range(8):
                statuses.append(post(client, path, body).status_code)
        threads = [threading.Thread(target=send, args=("/api/config", {"n_samples": 40})),
                   threading.Thread(target=send, args=("/api/control", {"action": "play"}))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert statuses == [200] * 16


def post(client, path, body=None, content=None):
    return client.post(path, content=content if content is not None else json.dumps(body),
                       headers={"Content-Type": "application/json"})


@pytest.fixture
def client():
    with TestClient(create_app("127.0.0.1", 8765), base_url=BASE) as c:
        yield c


def test_deeply_nested_json_is_a_400(client):
    response = post(client, "/api/config", content="[" * 5000 + "]" * 5000)
    assert response.status_code == 400
    assert response.json()["error"].startswith("the request body must not nest more deeply")


@pytest.mark.parametrize("limit", ["²", "٣", "1e3", "-1", "100001"])
def test_stream_limit_must_be_ascii_digits(client, limit):
    response = client.get(f"/api/stream?limit={limit}")
    assert response.status_code == 400
    assert response.json()["error"].startswith("limit must be an integer in [0, 100000]")
