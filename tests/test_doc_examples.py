"""Every ```python block of README.md and docs/*.md runs, as written.

The blocks of one page run in order in one namespace, as the cells of a notebook, in a
temporary folder. An HTML comment on the line before a block changes how it runs:

- ``<!-- docs-test: mnist=N -->``: ``load_mnist`` returns the first N training images and
  N // 4 test images (a block written for all of MNIST then runs in seconds);
- ``<!-- docs-test: skip (why) -->``: the block is not run.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Packages of zerodl's optional extras: a page about one skips where it is missing.
OPTIONAL = {"onnx", "onnxruntime", "sklearn", "distributed", "dask", "joblib", "threadpoolctl",
            "starlette", "uvicorn"}
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?:<!-- docs-test: (?P<mark>[^>]*?) -->\n)?```python\n(?P<code>.*?)^```",
                   re.S | re.M)


def blocks(page: Path) -> list[tuple[int, str, str]]:
    """(line, mark, code) of each python block of ``page``."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start("code")), m.group("mark") or "", m.group("code"))
            for m in FENCE.finditer(text)]


def test_the_pages_have_examples():
    assert sum(len(blocks(page)) for page in PAGES) >= 10
    assert blocks(ROOT / "README.md")


def _subset_of_mnist(monkeypatch, n: int) -> None:
    from zerodl.core import datasets
    real = datasets.load_mnist

    def load_mnist(*args, **kwargs):
        (x, d), (x_test, d_test) = real(*args, **kwargs)
        return (x[:n], d[:n]), (x_test[:n // 4], d_test[:n // 4])

    # zerodl.datasets is the same module object, so this covers every import path.
    monkeypatch.setattr(datasets, "load_mnist", load_mnist)
    import zerodl
    monkeypatch.setattr(zerodl, "load_mnist", load_mnist)


@pytest.mark.parametrize("page", [page for page in PAGES if blocks(page)],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_python_block_runs(page, tmp_path, monkeypatch):
    found = blocks(page)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__main__"}
    for line, mark, code in found:
        if mark.startswith("skip"):
            continue
        subset = re.fullmatch(r"mnist=(\d+)", mark)
        if subset:
            if not _have_mnist():
                pytest.skip("MNIST is not available here")
            _subset_of_mnist(monkeypatch, int(subset.group(1)))
        elif mark:
            raise AssertionError(f"{page.name}:{line}: unknown docs-test mark {mark!r}")
        try:
            exec(compile(code, f"{page.name}:{line + 1}", "exec"), namespace)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in OPTIONAL:
                pytest.skip(f"{page.name}:{line + 1} needs {exc.name}, not installed here")
            raise
        except Exception as exc:
            raise AssertionError(f"the block at {page.name}:{line + 1} fails: "
                                 f"{type(exc).__name__}: {exc}") from exc
        finally:
            import matplotlib.pyplot as plt
            plt.close("all")


def _have_mnist() -> bool:
    from zerodl.core import datasets
    try:
        datasets.load_mnist(verbose=0)
    except Exception:
        return False
    return True
