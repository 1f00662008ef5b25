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


def request(port: int, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=10)


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
