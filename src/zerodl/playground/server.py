"""The playground's web server: a Starlette app over one ``TrainingSession``.

Routes (all JSON in and out, except the page and the event stream):

- ``GET /`` the page; ``GET /static/...`` its script and style (package files only).
- ``GET /api/options`` the choices and limits the page builds its form from.
- ``POST /api/config`` a new configuration: the old session's thread ends, a new one starts.
- ``POST /api/control`` ``{"action": "play" | "pause" | "step" | "reset", "steps": n}``;
  ``{"action": "speed", "steps": n}`` trains at most n steps per frame while playing.
  A second step request while one trains gets 409.
- ``POST /api/trace`` ``{"set": "train" | "test", "index": i}``: the course's quantities.
- ``GET /api/snapshot`` the newest snapshot; ``GET /api/stream`` the snapshots as
  Server-Sent Events, at most ``1 / PUBLISH_EVERY`` a second, skipping those a slow reader
  missed.

Safety: a request whose ``Host`` (or ``Origin``, when sent) is not this server's own address
gets 403, which defeats DNS rebinding and cross-site posts; a POST must carry JSON of at most
``MAX_BODY`` bytes; a bad value gets 400 with a message that the page shows. The page can only
choose among the listed options: nothing it sends names a file or is run.
"""
from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..core.datasets import MNISTUnavailable, load_mnist
from ..core.optimizers import OPTIMIZERS
from .config import (ACTIVATIONS, CLASSIFICATION_OUTPUTS, DATASETS, FEATURES, INITS, LIMITS,
                     REGRESSION_SETS, REGULARIZATIONS, Busy, ConfigError, PlaygroundConfig,
                     parse_config)
from .session import PUBLISH_EVERY, TrainingSession, make_data

STATIC = Path(__file__).parent / "static"
MAX_BODY = 16 * 1024
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD = ("0.0.0.0", "::", "")


def allowed_hosts(host: str, port: int) -> set[str]:
    """The ``Host`` header values that name this server: its address and port.

    A loopback address also answers to the other loopback names; a wildcard address
    (0.0.0.0, ::) to those and to this computer's name and addresses.
    """
    names = {f"[{host}]" if ":" in host else host}
    if host in LOOPBACK or host in WILDCARD:
        names.update(("127.0.0.1", "localhost", "[::1]"))
    if host in WILDCARD:
        try:
            computer = socket.gethostname()
            names.add(computer)
            names.update(info[4][0] for info in socket.getaddrinfo(computer, None)
                         if info[0] == socket.AF_INET)
        except OSError:
            pass        # only the loopback names then
    return {f"{name}:{port}" for name in names}


class HostOriginGuard:
    """ASGI middleware: refuse (403) requests for another host name or from another origin."""

    def __init__(self, app, hosts: set[str]) -> None:
        self.app = app
        self.hosts = {h.lower() for h in hosts}
        self.origins = {f"http://{h}" for h in self.hosts}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope["headers"]}
            host = headers.get("host", "").lower()
            origin = headers.get("origin")
            if host not in self.hosts:
                reason = f"Host {host[:100]!r} is not this server"
            elif origin is not None and origin.lower() not in self.origins:
                reason = f"Origin {origin[:100]!r} is not this server"
            else:
                reason = None
            if reason is not None:
                response = JSONResponse({"error": f"refused: {reason}."}, status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Playground:
    """The server's state: the current session and a cache of MNIST (read once)."""

    def __init__(self, mnist_loader: Callable | None = None) -> None:
        self._load_mnist = mnist_loader or load_mnist
        self._mnist = None
        self._mnist_lock = threading.Lock()
        self._swap_lock = threading.Lock()
        self.session: TrainingSession | None = None
        self.speed: int | None = None           # steps per frame (None: no limit)
        self.closing = threading.Event()
        self.configure(PlaygroundConfig())

    def mnist(self):
        with self._mnist_lock:
            if self._mnist is None:
                self._mnist = self._load_mnist()
            return self._mnist

    def configure(self, config: PlaygroundConfig) -> TrainingSession:
        """Replace the session by a new, paused one for ``config``; end the old one's thread."""
        data = make_data(config, self.mnist)     # may raise: then the old session stays
        new = TrainingSession(config, data)
        new.set_speed(self.speed)
        with self._swap_lock:                    # two resets at once: each old one is closed
            old, self.session = self.session, new
        if old is not None:
            old.close()
        return new

    def close(self) -> None:
        self.closing.set()
        if self.session is not None:
            self.session.close()


async def _json_body(request: Request) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ConfigError("the request must be JSON (Content-Type: application/json).")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ConfigError(f"the request must be at most {MAX_BODY} bytes.")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ConfigError("the request body is not valid JSON.") from None
    except RecursionError:          # [[[[...]]]]: deeper than Python's parser goes
        raise ConfigError("the request body must not nest more deeply than "
                          f"{sys.getrecursionlimit()} levels.") from None


def _error(exc: Exception, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=status)


def _playground(request: Request) -> Playground:
    return request.app.state.playground


async def page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def options(request: Request) -> Response:
    return JSONResponse({
        "datasets": list(DATASETS), "activations": list(ACTIVATIONS), "inits": list(INITS),
        "optimizers": list(OPTIMIZERS.names()), "limits": LIMITS,
        "regression_sets": list(REGRESSION_SETS), "outputs": list(CLASSIFICATION_OUTPUTS),
        "features": list(FEATURES), "regularizations": list(REGULARIZATIONS),
        "defaults": PlaygroundConfig().to_json(),
        "config": _playground(request).session.config.to_json(),
    })


async def configure(request: Request) -> Response:
    try:
        config = parse_config(await _json_body(request))
        await asyncio.to_thread(_playground(request).configure, config)
    except ConfigError as exc:
        return _error(exc)
    except (MNISTUnavailable, FileNotFoundError, OSError) as exc:
        return _error(RuntimeError(f"MNIST is not available here: {exc}"), 503)
    return JSONResponse({"config": config.to_json()})


def _parse_control(raw: Any) -> tuple[str, int | None]:
    if not isinstance(raw, dict) or set(raw) - {"action", "steps"}:
        raise ConfigError('control must be {"action": ..., "steps": n}.')
    action = raw.get("action")
    if action not in ("play", "pause", "step", "reset", "speed"):
        raise ConfigError(f"action must be one of play, pause, step, reset, speed; got "
                          f"{str(action)[:40]!r}.")
    if action == "speed" and "steps" not in raw:
        return action, None             # no limit on the steps per frame
    steps = raw.get("steps", 1)
    low, high = LIMITS["steps"]
    if isinstance(steps, bool) or not isinstance(steps, int) or not low <= steps <= high:
        raise ConfigError(f"steps must be an integer in [{low}, {high}]; got {str(steps)[:40]}.")
    return action, steps


async def control(request: Request) -> Response:
    try:
        action, steps = _parse_control(await _json_body(request))
    except ConfigError as exc:
        return _error(exc)
    playground = _playground(request)
    session = playground.session
    if action == "speed":       # steps per frame while playing; kept across resets
        playground.speed = steps
        session.set_speed(steps)
    elif action == "play":
        session.play()
    elif action == "pause":
        await asyncio.to_thread(session.pause)
    elif action == "step":
        try:
            await _advance(request, session, steps)
        except Busy as exc:
            return _error(exc, 409)
    else:
        session = await asyncio.to_thread(playground.configure, session.config)
    return JSONResponse({"step": session.step, "status": session.status,
                         "error": session.error})


async def _advance(request: Request, session: TrainingSession, steps: int) -> None:
    """Train ``steps`` steps in a worker thread; a client that goes away cancels them."""
    cancel = threading.Event()
    work = asyncio.ensure_future(asyncio.to_thread(session.advance, steps, cancel))
    try:
        while not work.done():
            await asyncio.wait({work}, timeout=0.1)
            if not work.done() and await request.is_disconnected():
                cancel.set()
        await work
    finally:
        cancel.set()        # this request cancelled (shutdown): the thread stops too


async def trace(request: Request) -> Response:
    try:
        raw = await _json_body(request)
        if not isinstance(raw, dict) or set(raw) != {"set", "index"}:
            raise ConfigError('trace must be {"set": "train" or "test", "index": i}.')
        result = await asyncio.to_thread(_playground(request).session.trace, raw["set"],
                                         raw["index"])
    except ConfigError as exc:
        return _error(exc)
    return JSONResponse(result)


async def snapshot(request: Request) -> Response:
    _, text = _playground(request).session.latest()
    return Response(text, media_type="application/json")


async def stream(request: Request) -> Response:
    limit = request.query_params.get("limit", "0")
    # isdigit alone takes "²", which int() refuses: ASCII digits only.
    if not (limit.isascii() and limit.isdigit()) or int(limit) > 100000:
        return _error(ConfigError(f"limit must be an integer in [0, 100000]; got {limit[:20]!r}."))
    playground, limit = _playground(request), int(limit)

    async def events():
        sent, version, session = 0, 0, None
        # Polling the latest snapshot: no thread or queue per reader, and a reader that
        # falls behind gets the newest state, never a backlog.
        while not playground.closing.is_set():
            if playground.session is not session:
                session, version = playground.session, 0   # a reset: start over
            new_version, text = session.latest()
            if new_version != version and text:
                version = new_version
                yield f"event: snapshot\ndata: {text}\n\n"
                sent += 1
                if limit and sent >= limit:
                    return
            if await request.is_disconnected():
                return
            await asyncio.sleep(PUBLISH_EVERY)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def create_app(host: str = "127.0.0.1", port: int = 8000,
               mnist_loader: Callable | None = None) -> Starlette:
    """The playground's ASGI app for a server listening on ``host:port``.

    ``mnist_loader`` (tests) replaces ``load_mnist``. The app's ``state.playground`` holds
    the session; its lifespan ends the training thread when the server stops.
    """
    playground = Playground(mnist_loader)

    @asynccontextmanager
    async def lifespan(app):
        yield
        playground.close()

    app = Starlette(routes=[
        Route("/", page),
        Route("/api/options", options),
        Route("/api/config", configure, methods=["POST"]),
        Route("/api/control", control, methods=["POST"]),
        Route("/api/trace", trace, methods=["POST"]),
        Route("/api/snapshot", snapshot),
        Route("/api/stream", stream),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], lifespan=lifespan)
    app.state.playground = playground
    app.add_middleware(HostOriginGuard, hosts=allowed_hosts(host, port))
    return app
