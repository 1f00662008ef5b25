"""MkDocs hook: the pages that are generated, never written by hand.

- ``<!-- api: LAYER -->`` in a page becomes one ``::: zerodl.LAYER.module`` block (rendered by
  mkdocstrings from the docstrings) per public module of that layer, found by walking the
  package, so a new module is documented without touching the docs. Each block is headed by
  the module's real path and names its short public path (``zerodl.functions``) when
  ``zerodl/__init__.py`` gives it one.
- ``<!-- readme: ... -->`` becomes README.md, its links into ``docs/`` made relative to the
  site, so that the front page is written once.
- ``<!-- cli-reference -->`` becomes the ``--help`` text of ``zerodl`` and of every command,
  taken from the argument parser itself.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys

#: The checkout's own package, whatever zerodl the environment has installed.
SRC = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "src"))


def _own_zerodl() -> None:
    """Import zerodl from this checkout's src/, even if another copy was imported first."""
    if SRC not in sys.path:
        sys.path.insert(0, SRC)
    loaded = sys.modules.get("zerodl")
    if loaded is not None and not os.path.realpath(loaded.__file__).startswith(SRC):
        for name in [m for m in sys.modules if m == "zerodl" or m.startswith("zerodl.")]:
            del sys.modules[name]
    importlib.import_module("zerodl")

#: The layers in the order of the architecture; "faces" are the modules at the top level.
LAYERS = {"core": "zerodl.core", "training": "zerodl.training", "tools": "zerodl.tools",
          "faces": "zerodl"}
#: Faces documented elsewhere or without an API of their own.
SKIP = {"zerodl.cli", "zerodl.book", "zerodl.playground"}


def _public_modules(package: str) -> list[str]:
    """Every module and subpackage under ``package`` whose path has no ``_`` part."""
    root = importlib.import_module(package)
    names = []
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        if info.name in LAYERS.values() or any(info.name == s or info.name.startswith(s + ".")
                                               for s in SKIP):
            continue
        names.append(info.name)
    return sorted(names)


def _short_paths() -> dict[str, str]:
    """Real module path -> the short path ``zerodl/__init__.py`` registers for it."""
    import zerodl  # noqa: F401  (registers the short paths)
    return {module.__name__: name for name, module in list(sys.modules.items())
            if name.startswith("zerodl.") and getattr(module, "__name__", name) != name
            and name.count(".") == 1}


def api_markdown(layer: str) -> str:
    shorts = _short_paths()
    package = LAYERS[layer]
    names = _public_modules(package)
    if layer == "faces":
        names = [n for n in names if n.count(".") == 1]
    blocks = []
    for name in names:
        short = shorts.get(name)
        also = f"Import it as `{short}` (the same module object).\n\n" if short else ""
        blocks.append(f"## `{name}`\n\n{also}::: {name}\n    options:\n"
                      f"      show_root_heading: false\n      show_root_toc_entry: false\n"
                      f"      heading_level: 3\n")
    return "\n".join(blocks)


def _parsers():
    from zerodl.cli.app import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, sub.choices


def cli_markdown() -> str:
    os.environ["COLUMNS"] = "96"            # argparse wraps to the terminal's width
    parser, commands = _parsers()
    parts = ["## zerodl\n", "```text", parser.format_help().rstrip(), "```\n"]
    for name, sub in commands.items():
        parts += [f"## zerodl {name}\n", "```text", sub.format_help().rstrip(), "```\n"]
    return "\n".join(parts)


def readme_markdown(config) -> str:
    root = os.path.dirname(config["config_file_path"])
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        text = f.read()
    text = text.replace("](docs/", "](")
    # The site's own build instructions are on the development page, not the front one.
    return text


def _no_reference_links(markdown: str) -> str:
    """Prose like ``params['W1'][...]`` outside code would read as a reference-style link
    ``[text][label]`` that mkdocs-autorefs tries to resolve; no page here means one, so
    ``][`` outside code spans and fenced blocks is escaped."""
    lines, fenced = [], False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and "][" in line:
            parts = line.split("`")
            line = "`".join(p.replace("][", "]\\[") if i % 2 == 0 else p
                            for i, p in enumerate(parts))
        lines.append(line)
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:
    _own_zerodl()
    if not page.file.src_uri.startswith("api/"):
        markdown = _no_reference_links(markdown)
    if markdown.lstrip().startswith("<!-- readme:"):
        return readme_markdown(config)
    markdown = re.sub(r"<!-- api: (\w+) -->", lambda m: api_markdown(m.group(1)), markdown)
    return markdown.replace("<!-- cli-reference -->", cli_markdown())
