"""``zerodl playground`` as a command: the warning off loopback and a clean stop on Ctrl-C."""
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the playground extra (uvicorn) is not installed")

from zerodl.cli import main  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(*args):
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-m", "zerodl", "playground", "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_until_up(port: int, process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the playground server did not start")


@contextlib.contextmanager
def server(*args):
    """The playground on a free port, up and listening; killed on the way out if still alive."""
    port = free_port()
    process = start("--port", str(port), *args)
    try:
        wait_until_up(port, process)
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def interrupt(process) -> tuple[str, str]:
    """Ctrl-C, then the server's stdout and stderr once it has ended."""
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=20)


def request(port: int, path: str, body=None, timeout: float = 10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=timeout)


def test_ctrl_c_stops_the_server_while_training_and_streaming():
    with server() as (port, process):
        request(port, "/api/control", {"action": "play"})
        stream = request(port, "/api/stream")          # a client that never reads further
        first = stream.readline()
        assert first.startswith(b"event: snapshot")
        reader = threading.Thread(target=lambda: stream.read(), daemon=True)
        reader.start()
        time.sleep(0.5)
        out, err = interrupt(process)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out
    assert "Traceback" not in err


def test_a_host_off_loopback_is_warned_about():
    with server("--host", "0.0.0.0") as (_, process):
        out, err = interrupt(process)
    assert "warning: listening on 0.0.0.0" in err
    assert process.returncode == 0


def test_bad_port_is_a_usage_error(capsys):
    assert main(["playground", "--port", "70000", "--no-browser"]) == 2
    assert "--port must be in 1..65535" in capsys.readouterr().err


def test_a_client_that_never_reads_does_not_stall_training():
    with server() as (port, process):
        stalled = []
        for _ in range(3):          # three streams whose bytes are never read
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.connect(("127.0.0.1", port))
            s.sendall(f"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            stalled.append(s)
        request(port, "/api/control", {"action": "play"})
        steps = []
        for _ in range(3):
            time.sleep(1.0)
            steps.append(json.load(request(port, "/api/snapshot"))["step"])
        assert steps[0] < steps[1] < steps[2]
        for s in stalled:
            s.close()
        request(port, "/api/control", {"action": "pause"})
        interrupt(process)
    assert process.returncode == 0


def test_a_port_in_use_is_one_clear_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start("--port", str(port))
        out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert out == ""                                   # no URL for a server that never ran
    assert err.startswith(f"zerodl playground: cannot listen on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1 and "Traceback" not in err and "ERROR" not in err


def test_ctrl_c_stops_a_server_busy_with_a_long_step_request():
    with server() as (port, process):
        config = {"dataset": "mnist", "n_samples": 10000, "hidden": [128] * 6,
                  "batch_size": 1000}
        try:
            request(port, "/api/config", config)
        except urllib.error.HTTPError as exc:
            pytest.skip(f"MNIST is not available to the server: {exc.read()[:200]!r}")
        for _ in range(3):          # step requests whose clients give up after 1 s
            with contextlib.suppress(OSError):
                request(port, "/api/control", {"action": "step", "steps": 1000}, timeout=1)
        started = time.monotonic()
        reply = json.load(request(port, "/api/control", {"action": "pause"}))
        assert reply["status"] == "paused" and time.monotonic() - started < 10
        out, err = interrupt(process)
    assert process.returncode == 0, err
    assert "Traceback" not in err
