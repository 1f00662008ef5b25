"""``zerodl playground``: start the playground's local web server and open its page."""
from __future__ import annotations

import argparse
import socket
import sys
import threading
import webbrowser

from ..core.extras import install_hint
from .common import UsageError


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``zerodl playground``."""
    p = subparsers.add_parser(
        "playground", help="a web page to build a network, train it and watch it learn",
        description="Start a local web server with the playground page: pick a data set "
                    "(toy 2-D sets or an MNIST subset) and a network, press Play and watch "
                    "the decision boundary, every neuron, the weights and the loss curves. "
                    f"Needs the optional extra: {install_hint('playground')}.")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this computer only)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return p


def run(args) -> int:
    """Run ``zerodl playground`` with parsed ``args``; Ctrl-C stops the server."""
    if not 0 < args.port < 65536:
        raise UsageError(f"zerodl playground: --port must be in 1..65535; got {args.port}")
    try:
        import uvicorn
        from ..playground.server import LOOPBACK, create_app
    except ImportError as exc:
        raise UsageError(f"zerodl playground needs Starlette and Uvicorn ({exc}); install them "
                         f"with: {install_hint('playground')}") from None
    if args.host not in LOOPBACK:
        print(f"zerodl playground: warning: listening on {args.host}, not only on this "
              f"computer; anyone who can reach it can drive the training", file=sys.stderr)
    try:
        listening = _listen(args.host, args.port)
    except OSError as exc:
        print(f"zerodl playground: cannot listen on {args.host}:{args.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    app = create_app(args.host, args.port)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{args.port}/"
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    playground = app.state.playground
    handle_exit = server.handle_exit

    def stop(sig, frame) -> None:
        playground.close()      # ends the event streams and the training thread at once
        handle_exit(sig, frame)

    server.handle_exit = stop
    print(f"zerodl playground at {url} (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[listening])
    except KeyboardInterrupt:
        pass        # uvicorn re-raises Ctrl-C after its clean shutdown: the normal way to stop
    finally:
        playground.close()
        listening.close()
    if not server.started:
        print(f"zerodl playground: could not listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    print("zerodl playground stopped", flush=True)
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, made before anything is printed, so that a port in
    use is one clear message rather than a URL followed by the server's own error. It
    listens once the server starts (asyncio's ``create_server`` calls ``listen``), so no
    client connects before the server's Ctrl-C handling is in place."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As uvicorn does: a restart may reuse a port whose old connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))     # not listen(): the server does, once it can answer
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
