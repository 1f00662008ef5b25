"""The optimizers' base class: settings, the step count, the state buffers and their tie to
the parameter arrays; the update rules themselves are in ``optimizers.py``.

Contract: ``optimizer.update(params, grads)`` takes two dicts with the same keys (``"W1"``,
``"b1"``, ...) and arrays of the same shapes, and updates ``params[key]`` in place, so every
reference to the parameters stays valid. The gradients are read, never changed. Any
per-parameter state (momentum buffers, moment estimates) lives in ``optimizer.buffers``:
buffer name -> dict keyed like the parameters.

Settings: each class declares its hyper-parameters once, in ``settings`` (name ->
``Setting(rule, help=...)``, ``zerodl.core.settings``), with their defaults in the
constructor's signature. The table drives the constructor's check and its messages, the
check of every later assignment (``opt.lr = -1`` is refused at once), ``get_config`` and
``repr``.
"""
from __future__ import annotations

import inspect
import weakref

import numpy as np

from ._checks import check_int, plain
from .settings import REQUIRED, Checked, Interval, Setting

#: A coefficient >= 0 (learning rates, decays, epsilons).
NON_NEGATIVE = Interval(float, 0)

def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return repr(plain(value))


def _float_array(name: str, value) -> np.ndarray:
    """``value`` as a new finite float array, or a ``ValueError`` naming ``name``."""
    try:
        array = np.array(value, copy=True)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind != "f":
        what = f"dtype {array.dtype}" if array is not None else repr(plain(value))
        raise ValueError(f"{name} must be a float array; got {what}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold only finite numbers; it holds NaN or infinite "
                         f"values.")
    return array



class Optimizer:
    """Base class: keeps the learning rate, the step count ``t`` and the state buffers.

    ``buffers`` maps a buffer name (``"exp_avg"``, ``"momentum_buffer"``, ...) to a dict
    keyed like the parameters; subclasses create their entries on first use. ``t`` counts
    calls to ``update`` (Adam's bias corrections and AdaGrad's ``lr_decay`` use it).
    Subclasses implement ``update_one`` (the rule for one array) and declare their
    settings in ``settings``; ``check_together`` may add a rule between settings.

    The buffers belong to the parameter arrays they were built for, as PyTorch ties an
    optimizer's state to its parameter tensors and Keras builds an optimizer for its
    variables: once an optimizer holds buffers, ``update`` accepts only the arrays it
    updated before. Another model's arrays are refused before anything changes, instead
    of being moved with momentum learnt on the first model. An optimizer without buffers
    (plain SGD) may serve several models, as the course's examples do. ``load_state_dict``
    and ``copy.deepcopy`` release the tie: the buffers go to the next arrays of the same
    keys and shapes.
    """

    name = ""
    #: Each hyper-parameter's rule and help (a subclass lists only its own; the defaults
    #: are read from the constructor's signature). After class creation: the whole table,
    #: in the signature's order, defaults included.
    settings: dict[str, Setting] = {"lr": Setting(NON_NEGATIVE, help="learning rate")}
    #: Buffers that are sums or means of squares, never negative (a square root is taken).
    squares: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        table = {}
        for klass in reversed(cls.__mro__[1:]):
            table.update(vars(klass).get("settings", {}))
        table.update(vars(cls).get("settings", {}))
        parameters = inspect.signature(cls.__init__).parameters
        order = [name for name in parameters if name in table]
        order += [name for name in table if name not in order]
        cls.settings = {}
        for name in order:
            default = parameters[name].default if name in parameters else REQUIRED
            cls.settings[name] = Setting(table[name].rule, REQUIRED if default is
                                         inspect.Parameter.empty else default, table[name].help)
            setattr(cls, name, Checked(name, table[name].rule))

    def __init__(self, lr: float, **settings) -> None:
        """Check and keep every setting of ``settings`` (the class's table), in its order."""
        given = {"lr": lr, **settings}
        if set(given) != set(type(self).settings):
            raise TypeError(f"{type(self).__name__} takes the settings "
                            f"{', '.join(type(self).settings)}; got {', '.join(given)}.")
        for name in type(self).settings:      # a new start: rules between settings see
            self.__dict__.pop(name, None)     # the defaults, not a previous configuration
        for name in type(self).settings:
            setattr(self, name, given[name])
        self.t = 0
        self.buffers: dict[str, dict[str, np.ndarray]] = {}
        # Scratch arrays per parameter, reused every step; not state, never saved.
        self._scratch: dict[str, list[np.ndarray]] = {}
        # (key, weak reference to the parameter, to the gradient) of the last update: the
        # arrays these buffers belong to.
        self._owner: tuple | None = None

    def __getstate__(self) -> dict:
        # A copy (copy.deepcopy) is not tied to the original's arrays: its buffers go to the
        # next arrays of their keys and shapes, as after load_state_dict.
        return {**vars(self), "_owner": None}

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to resume: ``{"config", "t", "buffers"}`` (copies).

        ``config`` holds JSON-able hyper-parameters (numbers, bools, lists), ``buffers``
        plain float arrays, so the whole state can be written without pickle.
        """
        return {"config": self.get_config(), "t": self.t,
                "buffers": {name: {k: v.copy() for k, v in table.items()}
                            for name, table in self.buffers.items()}}

    def check_state_dict(self, state, params: dict[str, np.ndarray] | None = None) -> dict:
        """Check ``state`` (what ``state_dict`` returns) without changing anything; return it
        as plain values: the settings, ``t`` as an ``int``, the buffers as new float arrays.

        Refused with a ``ValueError`` or ``TypeError`` naming the entry: other keys, settings
        that the constructor refuses, a step count that is not an integer >= 0, buffers that
        are not finite float arrays, or whose shapes differ between buffers of one key.
        With ``params``, the buffers must also be keyed and shaped like them.
        """
        if not isinstance(state, dict) or set(state) != {"config", "t", "buffers"}:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"state must be a dict with the keys 'buffers', 'config' and 't' "
                             f"(what state_dict returns); got {got!r}.")
        config = state["config"]
        expected = set(self.get_config())
        if not isinstance(config, dict) or set(config) != expected:
            got = sorted(config) if isinstance(config, dict) else plain(config)
            raise ValueError(f"state['config'] must have the keys of {type(self).__name__}'s "
                             f"settings ({', '.join(sorted(expected))}); got {got!r}.")
        try:
            type(self)(**config)               # the constructor's checks, on a scratch object
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"state['config'] holds a setting that {type(self).__name__} "
                            f"refuses: {exc}") from None
        t = check_int("state['t']", state["t"], minimum=0)
        if not isinstance(state["buffers"], dict):
            raise TypeError(f"state['buffers'] must be a dict of buffer name -> dict of "
                            f"arrays; got {plain(state['buffers'])!r}.")
        buffers: dict[str, dict[str, np.ndarray]] = {}
        shapes: dict[str, tuple] = {}
        for name, table in state["buffers"].items():
            where = f"state['buffers'][{name!r}]"
            if not isinstance(name, str) or not isinstance(table, dict):
                raise TypeError(f"{where} must be a dict of parameter name -> array; got "
                                f"{plain(table)!r}.")
            buffers[name] = {}
            for key, value in table.items():
                array = _float_array(f"{where}[{key!r}]", value)
                if name in self.squares and array.size and array.min() < 0:
                    raise ValueError(f"{where}[{key!r}] must hold values >= 0 (it sums "
                                     f"squares); got {plain(array.min())!r}.")
                if shapes.setdefault(key, array.shape) != array.shape:
                    raise ValueError(f"{where}[{key!r}] must have the shape of the other "
                                     f"buffers of {key!r}, {shapes[key]}; got {array.shape}.")
                buffers[name][key] = array
        if params is not None:
            self._check_buffers_fit(buffers, params, "state['buffers']")
        return {"config": dict(config), "t": t, "buffers": buffers}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned; resuming then continues bit for bit.

        Everything is checked first (``check_state_dict``): a refused state leaves the
        optimizer exactly as it was.
        """
        state = self.check_state_dict(state)
        self.__init__(**state["config"])     # cannot fail: the same settings passed above
        self.t = state["t"]
        self.buffers = state["buffers"]

    def restore_state(self, state: dict) -> None:
        """Put back a state that this optimizer's own ``state_dict()`` returned earlier in the
        same run: the step count and the buffers (copied), the settings left as they are.

        What ``fit`` uses to go back to an epoch's start after a divergence: nothing needs
        checking (the state is the optimizer's own), and unlike ``load_state_dict`` it does
        not rebuild the optimizer from its config, which a subclass with a constructor of its
        own may not accept.
        """
        self.t = state["t"]
        self.buffers = {name: {k: v.copy() for k, v in table.items()}
                        for name, table in state["buffers"].items()}

    # -- the step ------------------------------------------------------------------------
    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One step: ``params[key]`` changes in place for every key; ``grads`` is only read.

        Every array is checked before the first one is written (``check_params``), so a
        refused step changes nothing: no parameter, buffer or step count.
        """
        if not self._same_arrays(params, grads):
            self.check_params(params)
            self._check_grads(params, grads)
            self._owner = tuple((key, weakref.ref(p), weakref.ref(grads[key]))
                                for key, p in params.items())
        self.t += 1
        for key, p in params.items():
            self.update_one(key, p, grads[key])

    def check_params(self, params: dict[str, np.ndarray]) -> None:
        """Raise ``ValueError`` or ``TypeError``, changing nothing, unless
        ``update(params, ...)`` may run:
        ``params`` must be a dict of float arrays and, once this optimizer holds buffers,
        the very arrays it updated before, or (after ``load_state_dict``) arrays with the
        buffers' keys and shapes. ``fit`` calls this before training starts."""
        if not isinstance(params, dict) or not params:
            got = "an empty dict" if isinstance(params, dict) else f"a {type(params).__name__}"
            raise TypeError(f"params must be a non-empty dict of parameter name -> array; "
                            f"got {got}.")
        for key, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{key!r}] must be a float array; got "
                                f"{_describe(p)}.")
        if not any(self.buffers.values()) or self._owned_by(params):
            return
        if self._owner is not None:
            raise ValueError(
                f"optimizer {self!r} holds state ({', '.join(sorted(self.buffers))}) for the "
                f"parameter arrays it updated before, and these are other arrays (another "
                f"model's?); its buffers must not move another model. Give each model its "
                f"own optimizer, e.g. {type(self).__name__}(**optimizer.get_config()).")
        self._check_buffers_fit(self.buffers, params, "optimizer.buffers")

    def _owned_by(self, params) -> bool:
        """Whether ``params`` holds exactly the arrays of the last update (by identity)."""
        owner = self._owner
        return (owner is not None and isinstance(params, dict) and len(owner) == len(params)
                and all(params.get(key) is p() for key, p, _ in owner))

    def _same_arrays(self, params, grads) -> bool:
        """Whether ``params`` and ``grads`` hold the very arrays of the last update, which
        were checked then: the cheap test ``update`` makes at every step."""
        owner = self._owner
        if (owner is None or not isinstance(params, dict) or not isinstance(grads, dict)
                or len(owner) != len(params)):
            return False
        for key, p, g in owner:
            if params.get(key) is not p() or grads.get(key) is not g():
                return False
        return True

    @staticmethod
    def _check_buffers_fit(buffers: dict, params: dict, where: str) -> None:
        for name, table in buffers.items():
            if table and set(table) != set(params):
                raise ValueError(f"{where}[{name!r}] must be keyed like the parameters "
                                 f"({', '.join(params)}); got {', '.join(map(str, table))}.")
            # Shapes only: a buffer may be kept in another float type than its parameter.
            for key, buf in table.items():
                p = params[key]
                if buf.shape != p.shape:
                    raise ValueError(f"{where}[{name!r}][{key!r}] must have the shape of the "
                                     f"parameter, {p.shape}; got {buf.shape}.")

    @staticmethod
    def _check_grads(params: dict, grads) -> None:
        if not isinstance(grads, dict):
            raise TypeError(f"grads must be a dict keyed like params; got a "
                            f"{type(grads).__name__}.")
        for key, p in params.items():
            g = grads.get(key)
            if g is None:
                raise ValueError(f"grads must hold a gradient for every parameter; "
                                 f"{key!r} is missing.")
            if not isinstance(g, np.ndarray) or g.dtype.kind not in "fiu":
                raise TypeError(f"grads[{key!r}] must be an array of real numbers shaped like "
                                f"params[{key!r}], {p.shape}; got {_describe(g)}.")
            if g.shape != p.shape:
                raise ValueError(f"grads[{key!r}] must have the shape of params[{key!r}], "
                                 f"{p.shape}; got {_describe(g)}.")

    def update_one(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The settings as JSON-able values, in the constructor's order."""
        return {name: setting.rule.to_json(getattr(self, name))
                for name, setting in type(self).settings.items()}

    def check_together(self, name: str, value) -> None:
        """Refuse ``value`` for ``name`` if it breaks a rule between settings (checked
        before it is stored, at construction and at every assignment); none by default."""

    # -- helpers for subclasses ----------------------------------------------------------
    def _buffer(self, name: str, key: str, p: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """State array ``buffers[name][key]``, created on first use filled with ``fill``."""
        table = self.buffers.setdefault(name, {})
        buf = table.get(key)
        if buf is None:
            buf = table[key] = np.full_like(p, fill)
        elif buf.shape != p.shape:
            raise ValueError(f"optimizer state {name}[{key!r}] has shape {buf.shape} but the "
                             f"parameter has shape {p.shape}; use a fresh optimizer per model.")
        return buf

    def _work(self, key: str, p: np.ndarray, i: int = 0) -> np.ndarray:
        """Scratch array number ``i`` for parameter ``key`` (shape and dtype of ``p``)."""
        arrays = self._scratch.setdefault(key, [])
        while len(arrays) <= i:
            arrays.append(np.empty_like(p))
        if arrays[i].shape != p.shape or arrays[i].dtype != p.dtype:
            arrays[i] = np.empty_like(p)
        return arrays[i]

    def _update_in_float32(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        """``update_one`` for a float16 ``p`` through float32 copies, state kept in float32.

        The adaptive rules divide by ``sqrt(v) + eps``: in float16 ``eps`` (1e-8) rounds
        to 0 and ``g * g`` underflows to 0 for ``|g| < 2.4e-4``, so a zero or small
        gradient gives 0/0 or m/0. In float32 both are representable; only the new
        parameter values are rounded back to float16.
        """
        p32 = p.astype(np.float32)
        self.update_one(key, p32, g.astype(np.float32))
        p[...] = p32

    def _l2(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``g + weight_decay * p`` (the gradient of the L2 penalty added) in scratch 1."""
        out = self._work(key, p, 1)
        np.multiply(p, p.dtype.type(self.weight_decay), out=out)
        out += g
        return out

    def __repr__(self) -> str:
        """``Adam(lr=0.001, amsgrad=True)``: ``lr`` and the settings that differ from the
        class's defaults, so titles and logs stay short."""
        defaults = {name: setting.rule.to_json(setting.default)
                    for name, setting in type(self).settings.items()
                    if setting.default is not REQUIRED}
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                         if k == "lr" or k not in defaults or v != defaults[k])
        return f"{type(self).__name__}({args})"
