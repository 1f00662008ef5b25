"""`zerodl course-kit DIR`: course notebooks' imports, unchanged, on zerodl."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from zerodl import cli, functions
from zerodl.coursekit import MARKER, write_course_kit

SRC = Path(__file__).resolve().parents[1] / "src"

# A day-1 MNIST cell written the way the course writes it, only shortened to a few steps.
COURSE_CELL = textwrap.dedent("""
    import sys, os
    sys.path.append(os.environ["KIT_DIR"])
    import numpy as np
    from common import functions
    from data.mnist import load_mnist

    (x_train, d_train), (x_test, d_test) = load_mnist(normalize=True, one_hot_label=True)

    def init_network():
        network = {}
        input_layer_size = 784
        hidden_layer_size = 40
        output_layer_size = 10
        network['W1'] = 0.01 * np.random.randn(input_layer_size, hidden_layer_size)
        network['W2'] = 0.01 * np.random.randn(hidden_layer_size, output_layer_size)
        network['b1'] = np.zeros(hidden_layer_size)
        network['b2'] = np.zeros(output_layer_size)
        return network

    def forward(network, x):
        W1, W2 = network['W1'], network['W2']
        b1, b2 = network['b1'], network['b2']
        u1 = np.dot(x, W1) + b1
        z1 = functions.relu(u1)
        u2 = np.dot(z1, W2) + b2
        y = functions.softmax(u2)
        return z1, y

    def backward(x, d, z1, y):
        grad = {}
        W1, W2 = network['W1'], network['W2']
        delta2 = functions.d_softmax_with_loss(d, y)
        grad['b2'] = np.sum(delta2, axis=0)
        grad['W2'] = np.dot(z1.T, delta2)
        delta1 = np.dot(delta2, W2.T) * functions.d_relu(z1)
        grad['b1'] = np.sum(delta1, axis=0)
        grad['W1'] = np.dot(x.T, delta1)
        return grad

    np.random.seed(0)
    network = init_network()
    iters_num = 150
    batch_size = 100
    learning_rate = 0.1
    losses = []
    for i in range(iters_num):
        batch_mask = np.random.choice(len(x_train), batch_size)
        x_batch = x_train[batch_mask]
        d_batch = d_train[batch_mask]
        z1, y = forward(network, x_batch)
        grad = backward(x_batch, d_batch, z1, y)
        for key in ('W1', 'W2', 'b1', 'b2'):
            network[key] -= learning_rate * grad[key]
        z1, y = forward(network, x_batch)
        losses.append(functions.cross_entropy_error(d_batch, y))
    z1, y_test = forward(network, x_test)
    accuracy = np.mean(np.argmax(y_test, axis=1) == np.argmax(d_test, axis=1))
    print(x_train.shape, d_train.shape, x_test.shape, d_test.shape)
    print(losses[0], losses[-1], accuracy)
""")


def test_course_cell_runs_unchanged_on_the_kit(tmp_path, mnist_dir):
    kit = tmp_path / "DNN_code"
    assert cli.main(["course-kit", str(kit)]) == 0
    env = dict(os.environ, KIT_DIR=str(kit), ZERODL_DATA_DIR=str(mnist_dir),
               PYTHONPATH=str(SRC), OPENBLAS_NUM_THREADS="1")   # small matrices, shared cores
    done = subprocess.run([sys.executable, "-c", COURSE_CELL], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    shapes, numbers = done.stdout.strip().splitlines()
    assert shapes == "(60000, 784) (60000, 10) (10000, 784) (10000, 10)"
    first, last, accuracy = map(float, numbers.split())
    assert first > 2.0 and last < 0.5 * first     # it learned: ln 10 = 2.30 at the start
    assert accuracy > 0.7


def test_kit_names_are_zerodl_functions(tmp_path, monkeypatch):
    write_course_kit(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "common" or m.startswith(("common.", "data."))
                 or m == "data"]:
        monkeypatch.delitem(sys.modules, name)
    from common import functions as kit_functions
    for name in functions.__all__:
        assert getattr(kit_functions, name) is getattr(functions, name)
    d, x = np.array([[0.0, 1.0, 0.0]]), np.array([[1.0, 2.0, 0.5]])
    assert kit_functions.softmax_with_loss(d, x) == pytest.approx(
        -np.log(np.exp(2.0) / np.exp(x).sum()))
    from data import mnist
    assert mnist.load_mnist.__defaults__ == (True, True, False)


def test_kit_refuses_foreign_files_and_updates_its_own(tmp_path, capsys):
    written = write_course_kit(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "common/__init__.py", "common/functions.py", "data/__init__.py", "data/mnist.py"]
    assert all(p.read_text(encoding="utf-8").startswith(MARKER) for p in written)
    (tmp_path / "data" / "mnist.py").write_text("# stale kit\n", encoding="utf-8")
    (tmp_path / "common" / "functions.py").write_text("def relu(x): ...\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="functions.py"):
        write_course_kit(tmp_path)
    # nothing was written: the refusal comes before any write
    assert (tmp_path / "data" / "mnist.py").read_text(encoding="utf-8") == "# stale kit\n"
    assert cli.main(["course-kit", str(tmp_path)]) == 2
    assert "will not overwrite" in capsys.readouterr().err
    assert cli.main(["course-kit", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "common" / "functions.py").read_text(encoding="utf-8").startswith(MARKER)
    write_course_kit(tmp_path)        # its own files: updated without --force
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("book", [False, True])
def test_a_file_where_the_folder_should_be_is_refused_before_writing(tmp_path, book):
    target = tmp_path / "afile"
    target.write_text("mine\n")
    with pytest.raises(NotADirectoryError, match="directory must be a folder.*which is a file"):
        write_course_kit(target, book=book)
    assert target.read_text() == "mine\n"


def test_kit_files_edited_after_writing_are_not_overwritten(tmp_path):
    """The marker line says who wrote a file, not that nobody edited it since: the content
    is checked too (hardening round three)."""
    write_course_kit(tmp_path)
    mine = tmp_path / "common" / "functions.py"
    edited = mine.read_text(encoding="utf-8") + "\ndef my_relu(x):\n    return x * (x > 0)\n"
    mine.write_text(edited, encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"will not overwrite .*edited.*functions\.py"):
        write_course_kit(tmp_path)
    assert mine.read_text(encoding="utf-8") == edited
    write_course_kit(tmp_path, force=True)
    assert mine.read_text(encoding="utf-8") != edited
    write_course_kit(tmp_path)              # untouched kit files: brought up to date
