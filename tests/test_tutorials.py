"""Every tutorial notebook in docs/tutorials runs top to bottom (with fewer iterations)."""
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def test_every_notebook_is_there_and_matches_the_generator():
    import importlib.util
    spec = importlib.util.spec_from_file_location("build_tutorials", TUTORIALS / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert [p.name for p in NOTEBOOKS] == sorted(build.NOTEBOOKS)
    assert len(NOTEBOOKS) == len(build.NOTEBOOKS) >= 6
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        sources = [c.source for c in nb.cells]
        assert sources == [c.source for c in build.NOTEBOOKS[path.name]], (
            f"{path.name} differs from build.py: run python docs/tutorials/build.py")
        assert all(not c.get("outputs") for c in nb.cells), f"{path.name}: clear its outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("ZERODL_TUTORIAL_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The notebooks' matrices are small: threaded BLAS only adds contention on shared cores.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
    data = Path(os.environ.get("ZERODL_DATA_DIR", SHARED_MNIST))
    if (data / "train-images-idx3-ubyte.gz").exists():
        monkeypatch.setenv("ZERODL_DATA_DIR", str(data))
    elif "load_mnist" in path.read_text(encoding="utf-8"):    # notebooks 6 and 7
        pytest.skip(f"MNIST files not found in {data}")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    if not path.name.startswith("01"):        # notebook 1 prints values only
        assert images, f"{path.name} drew no figure"
