"""zerodl: neural networks from zero on NumPy.

The names of the deep-learning course (``functions``, ``load_mnist``, ``params["W1"]``,
``gradient``), done right and tested.
"""
from . import functions, initializers, layers, losses, optimizers
from . import callbacks, schedules
from .datasets import MNISTUnavailable, load_mnist, make_toy
from .errors import ResumeBeyondEnd, TrainingDiverged
from .gradcheck import gradient_check, gradient_errors
from .layers import Dense, Identity, LeakyReLU, ReLU, Sigmoid, Step, Tanh
from .model import History, Sequential, load, mlp
from .plotting import plot_history
from .sweeps import Sweep, sweep
from .metrics import confusion_matrix
from .inspection import (plot_activations, plot_confusion, plot_decision_boundary,
                         plot_layer_stats, plot_mistakes, plot_weights)

__version__ = "0.1.0"

__all__ = [
    "Dense", "History", "Identity", "LeakyReLU", "MNISTUnavailable", "ReLU", "Sequential",
    "Sigmoid", "ResumeBeyondEnd", "Step", "Tanh", "TrainingDiverged", "callbacks", "confusion_matrix", "functions", "gradient_check",
    "gradient_errors", "initializers", "layers", "load", "load_mnist", "losses", "make_toy", "mlp",
    "optimizers", "plot_activations", "plot_confusion", "plot_decision_boundary",
    "plot_history", "plot_layer_stats", "plot_mistakes", "plot_weights", "schedules", "Sweep", "sweep",
]
