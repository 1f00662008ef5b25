"""Training checkpoints: everything ``fit`` needs to continue a run exactly where it stopped.

A checkpoint is an ``.npz`` written atomically (``_fileio.atomic_write``: a run killed while
writing leaves the previous checkpoint intact) holding

- the arrays: the model's parameters and the optimizer's buffers (``m``, ``v``, ...), stored
  under neutral names ``a0, a1, ...`` and listed in the header;
- the header, JSON in the entry ``__zerodl_checkpoint__`` (nothing is pickled): format and
  version, the model's architecture, the optimizer's class, hyper-parameters and step count
  ``t``, the training generator's state (``np.random.Generator.bit_generator.state``), the
  progress and the ``History`` so far.

Progress. ``fit`` writes a checkpoint at the end of every epoch and when it is interrupted.
``progress`` holds ``epoch`` (the epoch finished, or the one in progress), ``step`` (updates
done), ``batches`` (batches done inside that epoch: 0 at an epoch end), the running sums of
the epoch in progress, and ``n_samples`` and ``batch_size`` of the run. The generator state
is the one to restore before drawing the next epoch's order; for an interrupted epoch that is
its start, so the same order is drawn again and its first ``batches`` batches are skipped.
Resuming therefore replays nothing and skips nothing: the weights end bit-identical to an
uninterrupted run. A run killed without warning (SIGKILL) resumes from the last epoch end.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np

from ._checks import check_path
from ._fileio import atomic_write
from .io import check_params, invalid_file, read_header, read_npz

FORMAT = "zerodl-checkpoint"
VERSION = 1
STATE_KEY = "__zerodl_checkpoint__"
WHAT = "zerodl checkpoint"


def _plain(value):
    """JSON fallback for NumPy scalars and arrays that slip into the state."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def save_checkpoint(path: str | os.PathLike, model, optimizer, rng_state: dict, history,
                    progress: dict, schedule=None) -> None:
    """Write the training state to ``path`` atomically (see the module docstring).

    ``rng_state`` is ``bit_generator.state`` of the generator that orders the batches, as it
    must be restored before the next epoch's order is drawn.
    """
    arrays: dict[str, np.ndarray] = {}

    def put(array) -> str:
        name = f"a{len(arrays)}"
        arrays[name] = np.ascontiguousarray(array)
        return name

    opt = optimizer.state_dict()
    state = {
        "format": FORMAT, "version": VERSION,
        "model": model.get_config(),
        "params": {key: put(p) for key, p in model.params.items()},
        "optimizer": {"class": type(optimizer).__name__, "config": opt["config"], "t": opt["t"],
                      "buffers": {name: {key: put(v) for key, v in table.items()}
                                  for name, table in opt["buffers"].items()}},
        "rng": rng_state,
        "progress": progress,
        "history": {"history": history.history, "epoch": history.epoch, "steps": history.steps},
        # The learning-rate schedule's state, for schedules with a state_dict().
        "schedule": schedule.state_dict() if hasattr(schedule, "state_dict") else None,
    }
    header = json.dumps(state, default=_plain)
    with atomic_write(path, name="checkpoint", make_parents=False) as f:
        np.savez(f, **{STATE_KEY: np.array(header)}, **arrays)


def _layers_without_init(config: dict) -> list:
    # The initialiser only drew the first weights; a resumed run replaces them anyway.
    layers = config.get("layers")
    if not isinstance(layers, list) or not all(isinstance(c, dict) for c in layers):
        return []
    return [{k: v for k, v in c.items() if k != "init"} for c in layers]


def _describe(config: dict) -> str:
    """``"784-16-10 (ReLU), softmax, float32"``: a model config in one short line."""
    layers = _layers_without_init(config)
    sizes = [c.get("n_in") for c in layers if c.get("type") == "Dense"][:1]
    sizes += [c.get("n_out") for c in layers if c.get("type") == "Dense"]
    others = sorted({str(c.get("type")) for c in layers if c.get("type") != "Dense"})
    return (f"{'-'.join(map(str, sizes))} ({', '.join(others) or 'no activation'}), "
            f"{config.get('output')}, {config.get('dtype')}")


def _mismatch(path: str, why: str) -> ValueError:
    return ValueError(f"{path} was written by a different training run: {why}. Resume "
                      f"with the same model, optimizer, data and batch size.")


def _sections(path: str, state: dict) -> tuple[dict, ...]:
    """The header's sections ``model, params, optimizer, progress, history, rng``, each a dict."""
    try:
        sections = tuple(state[key] for key in ("model", "params", "optimizer", "progress",
                                                "history", "rng"))
        if not all(isinstance(v, dict) for v in sections):
            raise TypeError("a section is not a JSON object")
    except (KeyError, TypeError) as exc:
        raise invalid_file(path, f"its header is incomplete ({type(exc).__name__}: {exc})",
                           WHAT) from None
    return sections


def _check_same_run(path: str, saved_model: dict, opt: dict, progress: dict, model, optimizer,
                    n_samples: int, batch_size: int) -> None:
    """Refuse a checkpoint of another run (architecture, optimizer, data size, batch size)
    and a progress entry that is not a count."""
    config = model.get_config()
    if (_layers_without_init(saved_model) != _layers_without_init(config)
            or saved_model.get("output") != config["output"]
            or saved_model.get("dtype") != config["dtype"]):
        raise _mismatch(path, f"it holds a model {_describe(saved_model)}; this one is "
                              f"{_describe(config)}")
    if opt.get("class") != type(optimizer).__name__:
        raise _mismatch(path, f"it was trained with the optimizer {opt.get('class')!r}; fit "
                              f"got {optimizer!r}")
    for key, expected in (("n_samples", n_samples), ("batch_size", batch_size)):
        if progress.get(key) != expected:
            raise _mismatch(path, f"it was written with {key}={progress.get(key)!r}; this fit "
                                  f"has {key}={expected!r}")
    for key in ("epoch", "step", "batches", "correct", "seen"):
        value = progress.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise invalid_file(path, f"its progress entry {key!r} must be an integer >= 0; "
                                     f"got {value!r}", WHAT)
    loss_sum = progress.get("loss_sum")
    if (not isinstance(loss_sum, (int, float)) or isinstance(loss_sum, bool)
            or not math.isfinite(loss_sum)):
        raise invalid_file(path, f"its progress entry 'loss_sum' must be a finite number; "
                                 f"got {loss_sum!r}", WHAT)


def _optimizer_state(path: str, opt: dict, array, model, optimizer) -> dict:
    """The optimizer's ``state_dict`` from the header: buffers keyed and shaped like the
    parameters, settings named as ``optimizer``'s, a step count ``t >= 0``."""
    def bad(why: str) -> ValueError:
        return invalid_file(path, why, WHAT)

    if not isinstance(opt.get("buffers"), dict):
        raise bad("its optimizer buffers are not a JSON object")
    buffers = {}
    for name, table in opt["buffers"].items():
        if not isinstance(table, dict) or not set(table) <= set(model.params):
            raise bad(f"its optimizer buffer {name!r} is not keyed like the parameters")
        buffers[name] = {}
        for key, ref in table.items():
            value = array(ref)
            if value.dtype.kind != "f" or value.shape != model.params[key].shape:
                raise bad(f"optimizer buffer {name}[{key}] has shape {value.shape} and dtype "
                          f"{value.dtype}; it needs {model.params[key].shape} floats")
            buffers[name][key] = value
    opt_config = opt.get("config")
    if not isinstance(opt_config, dict) or set(opt_config) != set(optimizer.get_config()):
        raise bad(f"its optimizer settings {opt_config!r} do not fit {optimizer!r}")
    if not isinstance(opt.get("t"), int) or isinstance(opt["t"], bool) or opt["t"] < 0:
        raise bad(f"its optimizer step count must be an integer >= 0; got {opt.get('t')!r}")
    return {"config": opt_config, "t": opt["t"], "buffers": buffers}


def _sizes_check(path, model, optimizer, n_samples: int, batch_size: int):
    """``read_npz``'s check, run on the header and the sizes the arrays declare before any
    is decompressed: the run must be the same (the friendly message for another run's
    file), and every array has the shape of a parameter (parameters and optimizer buffers
    alike), so an oversized entry is never read."""
    shapes = {p.shape for p in model.params.values()}

    def check(raw, declared: dict) -> None:
        if raw is None:
            return                      # read_header names the missing header
        state = read_header(path, {STATE_KEY: raw}, STATE_KEY, FORMAT, VERSION, WHAT)
        saved_model, _, opt, progress, _, _ = _sections(path, state)
        _check_same_run(path, saved_model, opt, progress, model, optimizer, n_samples,
                        batch_size)
        for key, (shape, _) in declared.items():
            if key != STATE_KEY and shape not in shapes:
                raise invalid_file(path, f"its entry {key!r} has shape {shape}, the shape of "
                                         f"none of the model's parameters", WHAT)
    return check


def load_checkpoint(path: str | os.PathLike, model, optimizer, rng: np.random.Generator,
                    history, *, n_samples: int, batch_size: int, schedule=None) -> dict:
    """Restore a checkpoint into ``model``, ``optimizer``, ``rng`` and ``history``; return
    its ``progress`` dict.

    Everything is checked before anything is changed, so a refused checkpoint leaves the
    model as it was. Raises ``FileNotFoundError`` for a missing file and ``ValueError``
    naming the file when it is damaged or was written by a different run (architecture,
    optimizer, number of samples or batch size).
    """
    path = check_path("resume", path)
    arrays = read_npz(path, WHAT, first=STATE_KEY,
                      check=_sizes_check(path, model, optimizer, n_samples, batch_size))
    state = read_header(path, arrays, STATE_KEY, FORMAT, VERSION, WHAT)

    def array(name) -> np.ndarray:
        if not isinstance(name, str) or name not in arrays:
            raise invalid_file(path, f"its header names an array {name!r} that it does not "
                                     f"hold", WHAT)
        return arrays[name]

    saved_model, params, opt, progress, saved_history, rng_state = _sections(path, state)
    _check_same_run(path, saved_model, opt, progress, model, optimizer, n_samples, batch_size)

    # Parameters exactly as the model's (the checks of model files).
    new_params = {key: array(name) for key, name in params.items()}
    check_params(path, new_params, model.params, WHAT)
    optimizer_state = _optimizer_state(path, opt, array, model, optimizer)

    # The generator state: try it on a scratch generator of the same kind first.
    try:
        type(rng.bit_generator)().state = rng_state
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise invalid_file(path, f"its random-generator state does not fit "
                                 f"{type(rng.bit_generator).__name__} "
                                 f"({type(exc).__name__}: {exc})", WHAT) from None

    tables = (saved_history.get("history"), saved_history.get("steps"))
    if (not all(isinstance(t, dict) and all(isinstance(v, list) for v in t.values())
                for t in tables) or not isinstance(saved_history.get("epoch"), list)):
        raise invalid_file(path, "its history is not a table of lists", WHAT)

    # All checked: commit.
    for key, value in new_params.items():
        model.params[key][...] = value
    optimizer.load_state_dict(optimizer_state)
    rng.bit_generator.state = rng_state
    history.history = saved_history["history"]
    history.epoch = saved_history["epoch"]
    history.steps = saved_history["steps"]
    if schedule is not None and hasattr(schedule, "load_state_dict") and state.get("schedule"):
        schedule.load_state_dict(state["schedule"])
    return progress
