"""Day 2's controls in Chromium: a TF Playground link, features, L2 and dropout, regression
on the plane, the MNIST view and the Japanese page's error text."""
import os
import time

import pytest

from test_playground_browser import ServerThread, browser  # noqa: F401  (the fixture)

TF_LINK = ("#activation=tanh&batchSize=10&dataset=spiral&regDataset=reg-plane&learningRate=0.03"
           "&regularization=L2&regularizationRate=0.001&noise=10&networkShape=8,8,5&seed=0.47"
           "&showTestData=true&discretize=true&percTrainData=60&x=true&y=true&xTimesY=false"
           "&xSquared=false&ySquared=false&cosX=false&sinX=true&cosY=false&sinY=true"
           "&collectStats=false&problem=classification&initZero=false&hideText=false")


def open_page(browser, server, hash_="", locale="en-US"):   # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(server.url + hash_)
    page.wait_for_function("document.querySelector('#curves').dataset.points >= 1")
    page.server = server
    return page


def session(page):
    return page.server.app.state.playground.session


def wait_for_config(page, **expected):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        config = session(page).config
        if all(getattr(config, key) == value for key, value in expected.items()):
            return config
        time.sleep(0.05)
    raise AssertionError(f"the server's config is {session(page).config}, not {expected}")


def test_a_tf_playground_link_sets_the_same_configuration(browser):  # noqa: F811
    with ServerThread() as server:
        page = open_page(browser, server, TF_LINK)
        config = wait_for_config(page, hidden=(8, 8, 5))
        assert (config.activation, config.batch_size, config.dataset, config.lr) == \
            ("tanh", 10, "spiral", 0.03)
        assert (config.regularization, config.regularization_rate) == ("L2", 0.001)
        assert config.noise == pytest.approx(0.1) and config.train_ratio == pytest.approx(0.6)
        assert config.features == ("x1", "x2", "sin(x1)", "sin(x2)")
        assert page.is_checked("#show-test") and page.is_checked("#discretize")
        note = page.text_content("#hash-note")
        assert "cosX, cosY, collectStats, initZero, hideText" in note and "0.47" in note
        # The page writes its state back in the same words.
        assert "networkShape=8,8,5" in page.evaluate("location.hash")
        assert page.locator('.neuron[data-layer="0"]').count() == 4
        page.context.close()


def test_a_feature_l2_and_dropout_change_training_as_the_server_reports(browser):  # noqa: F811
    with ServerThread() as server:
        page = open_page(browser, server)
        page.check('#features input[value="x1*x2"]')
        wait_for_config(page, features=("x1", "x2", "x1*x2"))
        page.select_option("#regularization", "L2")
        wait_for_config(page, regularization="L2")
        page.select_option("#regularization_rate", "0.03")
        wait_for_config(page, regularization_rate=0.03)
        page.fill("#dropout", "0.5")
        page.press("#dropout", "Enter")
        wait_for_config(page, dropout=0.5)
        for expected in (1, 2):
            page.click("#step")
            page.wait_for_function(
                f"document.querySelector('#step-count').textContent === '{expected}'")
        snap = page.server.app.state.playground.session.latest()[1]
        assert '"penalty":0.0,' not in snap and session(page).model.penalty() > 0
        assert any(type(layer).__name__ == "Dropout" for layer in session(page).model.layers)
        assert session(page).model.n_in == 3
        page.context.close()


def test_regression_on_the_plane_reaches_test_loss_below_0_01(browser):  # noqa: F811
    with ServerThread() as server:
        page = open_page(browser, server, "#problem=regression&regDataset=reg-plane"
                         "&networkShape=4&learningRate=0.03&activation=tanh")
        wait_for_config(page, dataset="plane", hidden=(4,), output="identity")
        page.click("#play")
        page.wait_for_function("Number(document.querySelector('#test-loss').textContent) < 0.01",
                               timeout=120000)
        page.click("#play")
        assert session(page).curves["test_loss"][-1] < 0.01
        assert page.text_content("#test-acc") == "–"          # no accuracy in regression
        page.context.close()


def test_the_mnist_view_trains_and_its_confusion_and_trace_respond(browser):  # noqa: F811
    if not os.environ.get("ZERODL_DATA_DIR"):
        pytest.skip("MNIST is not here (set ZERODL_DATA_DIR)")
    with ServerThread() as server:
        page = open_page(browser, server)
        page.click("#dataset-mnist")
        page.wait_for_selector("#confusion-views:not([hidden])")
        before = page.evaluate("document.querySelector('#confusion').toDataURL()")
        page.click("#play")
        page.wait_for_function("Number(document.querySelector('#test-acc').textContent) > 0.5",
                               timeout=120000)
        page.click("#play")
        assert page.evaluate("document.querySelector('#confusion').toDataURL()") != before
        page.fill("#trace-index", "3")
        page.click("#trace-go")
        page.wait_for_selector("#trace-image")
        assert "#3" in page.text_content(".trace-summary")
        page.context.close()


def test_the_japanese_page_shows_japanese_error_text(browser):  # noqa: F811
    with ServerThread() as server:
        page = open_page(browser, server, locale="ja-JP")
        page.click("#lang-ja")
        page.fill("#lr", "100")
        page.press("#lr", "Enter")
        page.wait_for_selector("#error:not([hidden])")
        text = page.text_content("#error")
        assert text.startswith("学習率 は [1e-06, 10.0] の範囲の数 でなければなりません")
        assert "このページの制限" in text and "100" in text
        assert "bad" in page.get_attribute("#lr", "class")
        page.click("#lang-en")
        page.fill("#lr", "-1")
        page.press("#lr", "Enter")
        page.wait_for_function("document.querySelector('#error').textContent.startsWith('lr must')")
        page.context.close()


def test_a_link_to_mnist_starts_as_the_mnist_button_does(browser):  # noqa: F811
    if not os.environ.get("ZERODL_DATA_DIR"):
        pytest.skip("MNIST is not here (set ZERODL_DATA_DIR)")
    with ServerThread() as server:
        page = open_page(browser, server, "#dataset=mnist&learningRate=0.001")
        config = wait_for_config(page, dataset="mnist")
        assert (config.hidden, config.n_samples, config.lr) == ((32,), 2000, 0.001)
        page.wait_for_selector("#confusion-views:not([hidden])")
        page.context.close()


def test_divergence_shows_its_message_and_training_stops(browser):  # noqa: F811
    with ServerThread() as server:
        page = open_page(browser, server, "#dataset=circle&activation=linear&learningRate=10"
                         "&optimizer=sgd&networkShape=4")
        wait_for_config(page, lr=10.0, activation="identity")
        page.click("#play")
        page.wait_for_selector("#error:not([hidden])")
        assert page.text_content("#error").startswith("Training diverged")
        page.wait_for_function("!document.querySelector('.transport').classList.contains('playing')")
        assert (session(page).error, session(page).status) == ("diverged", "paused")
        page.context.close()
