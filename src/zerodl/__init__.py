"""zerodl: neural networks from zero on NumPy.

The names of the deep-learning course (``functions``, ``load_mnist``, ``params["W1"]``,
``gradient``), done right and tested.
"""
import sys as _sys

from .core import (datasets, errors, functions, initializers, io, layers, losses, metrics,
                   optimizers, regularizers, schedules, toy)
from .training import architectures, callbacks, checkpoint, loop, model, recipe
from .tools import (compare, coursekit, gradcheck, inspection, layer_stats, plotting, sweeps,
                   trace)
from .core.datasets import MNISTUnavailable, load_mnist, make_toy
from .core.errors import ResumeBeyondEnd, TrainingDiverged
from .core.layers import (AvgPool2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten, Identity,
                          Layer, LeakyReLU, MaxPool2D, ReLU, Sigmoid, Step, Tanh)
from .core.metrics import confusion_matrix
from .training.architectures import deep_convnet, mlp, simple_convnet
from .training.fit_callbacks import History
from .training.files import load
from .training.model import Sequential
from .training.recipe import RunConfig
from .tools.gradcheck import gradient_check, gradient_errors
from .tools.layer_stats import LayerStats
from .tools.inspection import (plot_activations, plot_confusion, plot_decision_boundary,
                               plot_layer_stats, plot_mistakes, plot_weights)
from .tools.plotting import plot_history
from .tools.sweeps import Sweep, sweep

# The public module paths: learners write ``from zerodl.functions import sigmoid`` and
# ``zerodl.optimizers.Adam``, while the files sit in the folder of their layer
# (core/, training/, tools/; docs/architecture.md). Each short path names the same module
# object as its long one, so there is one module, one set of globals, one truth.
for _module in (datasets, errors, functions, initializers, io, layers, losses, metrics,
                optimizers, regularizers, schedules, toy, architectures, callbacks, checkpoint,
                loop, model, recipe, compare, coursekit, gradcheck, inspection, layer_stats,
                plotting, sweeps, trace):
    _sys.modules[f"{__name__}.{_module.__name__.rpartition('.')[2]}"] = _module
del _module

__version__ = "0.1.0"

__all__ = [
    "AvgPool2D", "BatchNormalization", "Conv2D", "Dense", "Dropout", "Flatten", "History",
    "Identity", "Layer", "LayerStats", "LeakyReLU", "MNISTUnavailable", "MaxPool2D", "ReLU",
    "ResumeBeyondEnd", "RunConfig", "Sequential", "Sigmoid", "Step", "Sweep", "Tanh",
    "TrainingDiverged", "callbacks", "confusion_matrix", "deep_convnet", "functions",
    "gradient_check", "gradient_errors", "initializers", "layers", "load", "load_mnist",
    "losses", "make_toy", "mlp", "optimizers", "plot_activations", "plot_confusion",
    "plot_decision_boundary", "plot_history", "plot_layer_stats", "plot_mistakes",
    "plot_weights", "regularizers", "schedules", "simple_convnet", "sweep",
]
