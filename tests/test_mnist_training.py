"""The course's MNIST cells reach their accuracy (real data, from ../shared or $ZERODL_DATA_DIR)."""
import numpy as np
import pytest

from zerodl import mlp
from zerodl.datasets import load_mnist
from zerodl.optimizers import SGD


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_mnist(normalize=True, one_hot_label=True, data_dir=mnist_dir)


def test_course_cell_784_40_10_reaches_088(mnist):
    (x_train, d_train), (x_test, d_test) = mnist
    model = mlp([784, 40, 10], activation="relu", output="softmax", init=0.01, seed=0)
    history = model.fit(x_train, d_train, steps=1000, batch_size=100, optimizer=SGD(lr=0.1),
                        validation_data=(x_test, d_test), verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.88
    assert model.params["W1"].dtype == np.float32


def test_784_100_10_he_sgd_reaches_097_within_10_epochs(mnist):
    (x_train, d_train), (x_test, d_test) = mnist
    model = mlp([784, 100, 10], init="he", seed=0)
    optimizer = SGD(lr=0.1)
    accuracies = []
    for _ in range(10):
        model.fit(x_train, d_train, epochs=1, batch_size=100, optimizer=optimizer, verbose=0)
        accuracies.append(model.evaluate(x_test, d_test)["accuracy"])
        if accuracies[-1] >= 0.97:
            break
    assert accuracies[-1] >= 0.97, accuracies
