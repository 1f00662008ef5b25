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

Reading is all or nothing. ``read_checkpoint`` reads the whole file and checks every part
against the objects it will go into (the optimizer and the schedule check their own state
with ``check_state_dict``), changing nothing; ``CheckpointState.apply`` then restores it all
in one go and cannot fail. ``load_checkpoint`` does both.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np

from ..core._checks import check_path
from ..core._fileio import atomic_write
from ..core.io import (MAX_HEADER_CHARS, check_header_size, check_params, invalid_file,
                       read_header, read_npz)
from .progress import steps_per_epoch

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
        "buffers": {key: put(b) for key, b in model.buffers.items()},
        # Layers that draw (dropout) continue their draws where they were.
        "generators": {str(i): g.bit_generator.state for i, g in layer_generators(model)},
        "optimizer": {"class": type(optimizer).__name__, "config": opt["config"], "t": opt["t"],
                      "buffers": {name: {key: put(v) for key, v in table.items()}
                                  for name, table in opt["buffers"].items()}},
        "rng": rng_state,
        "progress": progress,
        "history": {"history": history.history, "epoch": history.epoch, "steps": history.steps},
        # The learning-rate schedule's kind and state: resuming needs the same kind.
        "schedule": (None if schedule is None
                     else {"name": schedule.name, **schedule.state_dict()}),
    }
    header = json.dumps(state, default=_plain)
    check_header_size("the checkpoint's state (its History above all)", header,
                      MAX_HEADER_CHARS)
    with atomic_write(path, name="checkpoint", make_parents=False) as f:
        np.savez(f, **{STATE_KEY: np.array(header)}, **arrays)


def layer_generators(model) -> list[tuple[int, np.random.Generator]]:
    """``(index, generator)`` of each layer that draws random numbers (its ``rng``)."""
    return [(i, layer.rng) for i, layer in enumerate(model.layers)
            if isinstance(getattr(layer, "rng", None), np.random.Generator)]


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
                      f"with the same model, optimizer, schedule, data and batch size.")


def _sections(path: str, state: dict) -> tuple[dict, ...]:
    """The header's sections ``model, params, optimizer, progress, history, rng``, each a dict."""
    names = ("model", "params", "optimizer", "progress", "history", "rng")
    for key in names:
        if key not in state:
            raise invalid_file(path, f"its header is incomplete: the section {key!r} is missing",
                               WHAT)
        if not isinstance(state[key], dict):
            raise invalid_file(path, f"its header is incomplete: the section {key!r} is not a "
                                     f"JSON object", WHAT)
    return tuple(state[key] for key in names)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_same_run(path: str, saved_model: dict, opt: dict, progress: dict, model, optimizer,
                    n_samples: int, batch_size: int) -> None:
    """Refuse a checkpoint of another run (architecture, optimizer, data size, batch size)
    and a progress entry that is not a count or does not fit the run."""
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
        if not _is_count(value):
            raise invalid_file(path, f"its progress entry {key!r} must be an integer >= 0; "
                                     f"got {value!r}", WHAT)
    loss_sum = progress.get("loss_sum")
    if (not isinstance(loss_sum, (int, float)) or isinstance(loss_sum, bool)
            or not math.isfinite(loss_sum)):
        raise invalid_file(path, f"its progress entry 'loss_sum' must be a finite number; "
                                 f"got {loss_sum!r}", WHAT)
    # The counts must describe a point this run can reach: resuming would otherwise divide
    # by zero or skip the rest of an epoch after the weights were restored.
    per_epoch = steps_per_epoch(n_samples, batch_size)
    epoch, step, batches = progress["epoch"], progress["step"], progress["batches"]
    rules = ((batches < per_epoch, f"'batches' ({batches}) must be below the {per_epoch} "
                                   f"batches of an epoch"),
             (batches == 0 or progress["seen"] == batches * batch_size,
              f"'seen' ({progress['seen']}) must be 'batches' x batch_size = "
              f"{batches * batch_size} in an interrupted epoch"),
             (progress["correct"] <= progress["seen"],
              f"'correct' ({progress['correct']}) must not exceed 'seen' ({progress['seen']})"),
             (batches == 0 or epoch >= 1, "'epoch' must be >= 1 in an interrupted epoch"),
             (batches <= step <= epoch * per_epoch,
              f"'step' ({step}) must lie between 'batches' ({batches}) and 'epoch' x "
              f"{per_epoch} = {epoch * per_epoch}"))
    for ok, why in rules:
        if not ok:
            raise invalid_file(path, f"its progress does not add up: {why}", WHAT)


def _optimizer_state(path: str, opt: dict, array, model, optimizer) -> dict:
    """The optimizer's ``state_dict`` from the header, checked by the optimizer itself
    (``check_state_dict``): settings its constructor accepts, a step count ``t >= 0``,
    finite buffers keyed, shaped and typed like the parameters."""
    if not isinstance(opt.get("buffers"), dict):
        raise invalid_file(path, "its optimizer buffers are not a JSON object", WHAT)
    buffers = {}
    for name, table in opt["buffers"].items():
        if not isinstance(table, dict):
            raise invalid_file(path, f"its optimizer buffer {name!r} is not keyed like the "
                                     f"parameters", WHAT)
        buffers[name] = {key: array(ref) for key, ref in table.items()}
    try:
        return optimizer.check_state_dict({"config": opt.get("config"), "t": opt.get("t"),
                                           "buffers": buffers}, params=model.params)
    except (TypeError, ValueError) as exc:
        raise invalid_file(path, f"its optimizer state is refused: {str(exc).rstrip('.')}",
                           WHAT) from None


def _sizes_check(path, model, optimizer, n_samples: int, batch_size: int):
    """``read_npz``'s check, run on the header and the sizes the arrays declare before any
    is decompressed: the run must be the same (the friendly message for another run's
    file), and no array may be larger than the model's largest parameter (parameters and
    optimizer buffers alike), so an oversized entry is never read. Exact shapes are checked
    afterwards, with messages that name the parameter or buffer."""
    largest = max(p.size for p in model.params.values())

    def check(raw, declared: dict) -> None:
        if raw is None:
            return                      # read_header names the missing header
        state = read_header(path, {STATE_KEY: raw}, STATE_KEY, FORMAT, VERSION, WHAT)
        saved_model, _, opt, progress, _, _ = _sections(path, state)
        _check_same_run(path, saved_model, opt, progress, model, optimizer, n_samples,
                        batch_size)
        for key, (shape, _) in declared.items():
            if key != STATE_KEY and math.prod(shape) > largest:
                raise invalid_file(path, f"its entry {key!r} has shape {shape}, larger than "
                                         f"any of the model's parameters", WHAT)
    return check


def _schedule_state(path: str, saved, schedule) -> dict | None:
    """The learning-rate schedule's state, for the same kind of schedule as ``fit``'s."""
    if saved is None and schedule is None:
        return None
    if saved is None:
        raise _mismatch(path, f"it was written without a learning-rate schedule; fit got "
                              f"{schedule!r}")
    if not isinstance(saved, dict):
        raise invalid_file(path, f"its learning-rate schedule state is not a JSON object; "
                                 f"got {saved!r}", WHAT)
    name = saved.get("name")
    if schedule is None:
        raise _mismatch(path, f"it was written with the learning-rate schedule "
                              f"{name or 'of another run'!r}; fit got none")
    if name is not None and name != schedule.name:
        raise _mismatch(path, f"it was written with the learning-rate schedule {name!r}; fit "
                              f"got {schedule!r} ({schedule.name!r})")
    try:
        return schedule.check_state_dict({k: v for k, v in saved.items() if k != "name"})
    except (TypeError, ValueError) as exc:
        raise invalid_file(path, f"its learning-rate schedule state is refused: "
                                 f"{str(exc).rstrip('.')}", WHAT) from None


def _history(path: str, saved: dict) -> tuple:
    """``(history, epoch, steps)`` of the ``History``: tables of lists of numbers and a list
    of epoch numbers."""
    def numbers(values) -> bool:
        return isinstance(values, list) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)

    tables = (saved.get("history"), saved.get("steps"))
    epoch = saved.get("epoch")
    if (not all(isinstance(t, dict) and all(numbers(v) for v in t.values()) for t in tables)
            or not numbers(epoch) or not all(isinstance(e, int) and e >= 1 for e in epoch)):
        raise invalid_file(path, "its history is not a table of lists of numbers", WHAT)
    return tables[0], epoch, tables[1]


class CheckpointState:
    """A checkpoint read and checked in full, as plain values; ``apply`` restores it.

    Reading and applying are apart so that ``fit`` can refuse a checkpoint for reasons of
    its own (a run asked to stop before the point the checkpoint reached) while nothing has
    changed yet. ``apply`` cannot fail: every value was checked against the objects it goes
    into.
    """

    def __init__(self, params: dict, optimizer: dict, rng: dict, history: tuple,
                 schedule: dict | None, progress: dict, buffers: dict | None = None,
                 generators: dict | None = None) -> None:
        self.params, self.optimizer, self.rng = params, optimizer, rng
        self.history, self.schedule, self.progress = history, schedule, progress
        self.buffers, self.generators = buffers or {}, generators or {}

    def apply(self, model, optimizer, rng: np.random.Generator, history, schedule=None) -> dict:
        """Restore into the objects ``read_checkpoint`` checked; return the ``progress``."""
        for key, value in self.params.items():
            model.params[key][...] = value
        for key, value in self.buffers.items():
            model.buffers[key][...] = value
        for i, generator in layer_generators(model):
            generator.bit_generator.state = self.generators[str(i)]
        optimizer.load_state_dict(self.optimizer)
        rng.bit_generator.state = self.rng
        history.history, history.epoch, history.steps = self.history
        if schedule is not None:
            schedule.load_state_dict(self.schedule)
        return self.progress


def read_checkpoint(path: str | os.PathLike, model, optimizer, rng: np.random.Generator, *,
                    n_samples: int, batch_size: int, schedule=None) -> CheckpointState:
    """Read the checkpoint at ``path`` and check all of it against ``model``, ``optimizer``,
    ``rng`` and ``schedule``, changing none of them.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file when
    it is damaged or was written by a different run (architecture, optimizer, schedule,
    number of samples or batch size).
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
    buffers = state.get("buffers", {})
    if not isinstance(buffers, dict):
        raise invalid_file(path, "its buffers section must be a dict of array names", WHAT)
    new_buffers = {key: array(name) for key, name in buffers.items()}
    check_params(path, new_buffers, model.buffers, WHAT)
    generators = _generators(path, state.get("generators", {}), model)
    optimizer_state = _optimizer_state(path, opt, array, model, optimizer)
    schedule_state = _schedule_state(path, state.get("schedule"), schedule)

    # The generator state: try it on a scratch generator of the same kind first.
    try:
        type(rng.bit_generator)().state = rng_state
    except (KeyError, TypeError, ValueError, OverflowError):
        kind = type(rng.bit_generator).__name__
        raise invalid_file(path, f"its random-generator state does not fit {kind}: it must "
                                 f"be what bit_generator.state of a {kind} returns", WHAT) from None

    return CheckpointState(new_params, optimizer_state, rng_state,
                           _history(path, saved_history), schedule_state, progress,
                           new_buffers, generators)


def _generators(path, saved, model) -> dict:
    """The states of the layers' own generators, each tried on a scratch generator."""
    layers = layer_generators(model)
    if not isinstance(saved, dict) or set(saved) != {str(i) for i, _ in layers}:
        raise invalid_file(path, f"its layer generators must be those of layers "
                                 f"{[i for i, _ in layers]} of the model", WHAT)
    for i, generator in layers:
        try:
            type(generator.bit_generator)().state = saved[str(i)]
        except (KeyError, TypeError, ValueError, OverflowError):
            raise invalid_file(path, f"the random-generator state of layer {i} does not fit "
                                     f"its generator", WHAT) from None
    return saved


def load_checkpoint(path: str | os.PathLike, model, optimizer, rng: np.random.Generator,
                    history, *, n_samples: int, batch_size: int, schedule=None) -> dict:
    """Restore a checkpoint into ``model``, ``optimizer``, ``rng``, ``history`` and
    ``schedule``; return its ``progress`` dict.

    Everything is read and checked before anything is changed (``read_checkpoint``), so a
    refused checkpoint leaves all of them as they were.
    """
    return read_checkpoint(path, model, optimizer, rng, n_samples=n_samples,
                           batch_size=batch_size, schedule=schedule).apply(
        model, optimizer, rng, history, schedule)
