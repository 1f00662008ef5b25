"""The playground in a real browser: Debian's Chromium driven by Playwright's Python API
against a uvicorn server on 127.0.0.1 and a free port."""
import os
import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the playground extra (uvicorn) is not installed")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the Python package playwright is not installed")

from zerodl.playground.server import create_app  # noqa: E402

CHROMIUM = next((path for path in (os.environ.get("ZERODL_CHROMIUM"), shutil.which("chromium"),
                                   shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if path and os.path.isfile(path)), None)
if CHROMIUM is None:
    pytest.skip("no Chromium found (apt-get install chromium, or set ZERODL_CHROMIUM)",
                allow_module_level=True)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """uvicorn serving the playground in a thread of this process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.app = create_app("127.0.0.1", self.port)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the playground server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.app.state.playground.close()       # ends the event streams
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:      # a Chromium that cannot start here is an environment fault
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    with ServerThread() as server:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(20000)
        page.goto(server.url)
        page.wait_for_function("document.querySelector('#curves').dataset.points >= 1")
        page.server = server
        yield page
        context.close()


def number(page, selector) -> float:
    return float(page.text_content(selector).replace(",", ""))


def test_spiral_learns_to_test_accuracy_0_9(page):
    page.click("#dataset-spiral")
    page.wait_for_function("document.querySelector('#dataset-spiral').classList.contains('on')")
    page.click("#play")
    shown = page.wait_for_function(
        "(() => { const a = Number(document.querySelector('#test-acc').textContent);"
        " return a >= 0.9 ? [a, document.querySelector('#step-count').textContent] : false; })()",
        timeout=120000).json_value()
    page.click("#play")         # pause
    page.wait_for_function("!document.querySelector('.transport').classList.contains('playing')")
    accuracy, steps = shown
    assert accuracy >= 0.9 and int(steps.replace(",", "")) > 0
    # The page shows the session's own measurement: the model's accuracy on the test set.
    session = page.server.app.state.playground.session
    with session.lock:
        measured = session.model.evaluate_prepared(session.x_test, session.d_test)["accuracy"]
    assert number(page, "#test-acc") == pytest.approx(measured, abs=0.0005)


def test_step_advances_exactly_one_batch(page):
    session = page.server.app.state.playground.session
    for expected in (1, 2, 3):
        page.click("#step")
        page.wait_for_function(f"document.querySelector('#step-count').textContent === '{expected}'")
        assert session.step == expected
    # 200 training samples in batches of 10: three batches are 0.15 of an epoch.
    assert page.text_content("#epoch-count") == "0.15"


def test_reset_clears_the_curves(page):
    page.click("#play")
    page.wait_for_function("Number(document.querySelector('#curves').dataset.points) > 5")
    page.click("#reset")
    page.wait_for_function("document.querySelector('#step-count').textContent === '0'")
    assert page.get_attribute("#curves", "data-points") == "1"
    assert not page.eval_on_selector(".transport", "e => e.classList.contains('playing')")


def test_language_switch_changes_the_labels(page):
    page.click("#lang-en")
    assert page.text_content("[data-i18n='testAcc']") == "Test accuracy"
    assert page.text_content("[data-i18n='lr']") == "Learning rate"
    page.click("#lang-ja")
    assert page.text_content("[data-i18n='testAcc']") == "テスト正解率"
    assert page.text_content("[data-i18n='lr']") == "学習率"
    assert page.eval_on_selector("html", "e => e.lang") == "ja"


def test_a_bad_value_shows_its_error(page):
    assert page.is_hidden("#error")
    page.fill("#lr", "-1")
    page.press("#lr", "Enter")
    page.wait_for_selector("#error:not([hidden])")
    assert "lr must be a number" in page.text_content("#error")
    assert "bad" in page.get_attribute("#lr", "class")
    page.fill("#lr", "0.02")
    page.press("#lr", "Enter")
    page.wait_for_selector("#error", state="hidden")
    assert page.server.app.state.playground.session.config.lr == 0.02


def test_clicking_a_point_shows_its_trace(page):
    page.click("#step")
    box = page.locator("#boundary").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".trace-table")
    text = page.text_content("#trace")
    assert "dE/du" in text and "u" in text
