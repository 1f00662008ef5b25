"""The package's layers depend one way: core -> training -> tools -> command line.

``docs/architecture.md`` draws the layers; ``FOLDERS`` below maps each folder to its layer, and these
tests hold the code to it: every module imports only from its own or earlier layers, at
module level (no import inside a function to dodge a cycle), and no module imports another
module's ``_private`` names. Importing any library module leaves the command line unimported.
"""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import zerodl

PACKAGE = Path(zerodl.__file__).resolve().parent
ORDER = ["core", "training", "tools", "faces"]

#: The folder of each layer (docs/architecture.md): a module's layer is that of the folder it
#: sits in. ``zerodl`` is the package's ``__init__`` (the public names, from core to tools).
#: The faces are what a person or another program uses zerodl through: the command line, the
#: playground, ``book`` (the book's names, imported by the files of a book course kit), and
#: the bridges to scikit-learn (``zerodl.sklearn``) and ONNX (``zerodl.onnx``), which import
#: their optional package at the top and are never imported by ``import zerodl``.
FOLDERS = {
    "core": "core", "training": "training", "tools": "tools",
    "cli": "faces", "playground": "faces", "book": "faces", "__main__": "faces",
}
TOP_LEVEL = {"zerodl": "tools", "sklearn": "faces", "onnx": "faces"}

#: The only imports of zerodl modules allowed inside a function: a command that needs an
#: optional package imports the tool that uses it when it runs, so that the other commands
#: work without that package. (importer, imported module): the optional package.
OPTIONAL_DEPENDENCY_IMPORTS = {
    ("cli.playground", "playground.server"): "Starlette and Uvicorn",
    ("cli.sweep", "tools.benchmarks.sweep_bench"): "Dask",
    ("cli.export_onnx", "onnx"): "onnx",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "zerodl"


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
           if "__pycache__" not in p.parts}


def layer_of(name: str) -> str | None:
    """The layer of module ``name`` from its folder (None: a module outside every folder)."""
    if name in TOP_LEVEL:
        return TOP_LEVEL[name]
    return FOLDERS.get(name.split(".")[0])


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The module named by ``from <node.module> import ...`` written in ``module``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    parts = [] if package in ("", "zerodl") else package.split(".")
    if node.level:
        parts = parts[:len(parts) - (node.level - 1)]       # each extra dot: one package up
        base = parts + (node.module.split(".") if node.module else [])
    else:
        base = node.module.split(".")[1:]           # "zerodl.x.y" -> ["x", "y"]
    return ".".join(base) or "zerodl"


def imports_of(module: str):
    """``(target module, imported name or None, line, inside a function)`` of every import of
    a zerodl module in ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

    def visit(node, in_function):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "zerodl" or alias.name.startswith("zerodl."):
                    target = ".".join(alias.name.split(".")[1:]) or "zerodl"
                    yield target, None, node.lineno, in_function
        elif isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").split(".")[0] == "zerodl":
                target = _resolve(module, node)
                for alias in node.names:
                    sub = alias.name if target == "zerodl" else f"{target}.{alias.name}"
                    if sub in MODULES:                  # "from . import layers": a module
                        yield sub, None, node.lineno, in_function
                    else:
                        yield target, alias.name, node.lineno, in_function
        for child in ast.iter_child_nodes(node):
            yield from visit(child, in_function or isinstance(node, scopes))

    yield from visit(tree, False)


def test_every_module_is_in_the_layer_table():
    unknown = [name for name in MODULES if layer_of(name) is None]
    assert not unknown, (
        f"modules outside the layer folders: {unknown}. Put each in the folder of its layer "
        f"(core/, training/, tools/, or a face: cli/, playground/, book/); "
        f"docs/architecture.md says which holds what.")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_one_way_at_module_level_and_only_public_names(module):
    here = layer_of(module)
    if here is None:
        pytest.skip("not in the layer table (see test_every_module_is_in_the_layer_table)")
    problems = []
    for target, name, line, in_function in imports_of(module):
        where = f"{module}.py:{line}" if module != "zerodl" else f"__init__.py:{line}"
        there = layer_of(target)
        if there is None:
            problems.append(f"{where} imports {target}, which is not in the layer table")
        elif ORDER.index(there) > ORDER.index(here):
            problems.append(f"{where} ({here}) imports {target} ({there}): a later layer")
        if in_function and (module, target) not in OPTIONAL_DEPENDENCY_IMPORTS:
            problems.append(f"{where} imports {target} inside a function: import at the top "
                            f"(a cycle means the module is in the wrong layer)")
        if name and name.startswith("_") and not name.startswith("__") and target != module:
            problems.append(f"{where} imports the private name {name} of {target}: make it "
                            f"public or keep it where it is used")
    assert not problems, "\n".join(dict.fromkeys(problems))


LIBRARY = sorted(name for name in MODULES
                 if layer_of(name) not in (None, "faces"))


@pytest.mark.parametrize("module", LIBRARY)
def test_importing_a_library_module_leaves_the_command_line_unimported(module):
    dotted = "zerodl" if module == "zerodl" else f"zerodl.{module}"
    code = ("import importlib, sys\n"
            "try:\n"
            f"    importlib.import_module({dotted!r})\n"
            "except ImportError as exc:\n"
            "    if (exc.name or '').split('.')[0] == 'zerodl':\n"
            "        raise\n"
            "    print('optional', exc.name); sys.exit(0)\n"
            "print(sorted(m for m in sys.modules\n"
            "             if m == 'zerodl.cli' or m.startswith('zerodl.cli.')))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(PACKAGE.parent), os.environ.get("PYTHONPATH")])), MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    if done.stdout.startswith("optional"):
        pytest.skip(f"needs an optional package: {done.stdout.split()[1]}")
    assert done.stdout.strip() == "[]", f"importing {dotted} imported {done.stdout.strip()}"


def test_the_checks_can_fail(tmp_path):
    """The static check sees a later-layer import, a lazy one and a private name."""
    source = ("from ...cli.app import main\n"
              "from .io import _bad\n"
              "def f():\n"
              "    from ...training.model import mlp\n")
    path = MODULES["core.layers"]
    MODULES["core.layers"] = tmp_path / "layers.py"
    try:
        MODULES["core.layers"].write_text(source, encoding="utf-8")
        found = list(imports_of("core.layers"))
    finally:
        MODULES["core.layers"] = path
    assert found == [("cli.app", "main", 1, False), ("core.io", "_bad", 2, False),
                     ("training.model", "mlp", 4, True)]
    assert layer_of("cli.app") == "faces" and layer_of("core.layers") == "core"
    assert layer_of("playground.server") == "faces" and layer_of("newthing") is None
    assert layer_of("book.layers") == "faces" and layer_of("tools.benchmarks.x") == "tools"


def test_the_public_module_paths_are_the_modules_themselves():
    """``zerodl.functions`` is ``zerodl.core.functions``: one module under two names."""
    import importlib
    for short, long in [("functions", "core.functions"), ("layers", "core.layers"),
                        ("optimizers", "core.optimizers"), ("callbacks", "training.callbacks"),
                        ("datasets", "core.datasets"), ("trace", "tools.trace"),
                        ("model", "training.model")]:
        assert importlib.import_module(f"zerodl.{short}") is importlib.import_module(
            f"zerodl.{long}")
