"""Registries of scorers and solvers, and name look-up for every registry.

A scorer or solver factory registers with `@scorer(metrics=[...])` or `@solver()`, as tasks do
with `register`: the factory is found by name (`get_factory`), and whatever it builds carries a
`BuildInfo` (its registered name, the arguments it was built with, and for a scorer the metrics
its scores feed), which the engine stores with the task so a run records exactly how each
sample was prompted and scored.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from assay._errors import SpecError

Kind = Literal["scorer", "solver"]

# The metrics the engine computes from a task's scores at the end of a run:
# "mean": the mean of the counted values with a 95% interval (every task's headline metric);
# "pass_at_k": pass@1 and pass@N over the epochs by the unbiased estimator (code tasks).
METRICS = ("mean", "pass_at_k")

Factory = TypeVar("Factory", bound=Callable[..., Any])


@dataclass(frozen=True)
class BuildInfo:
    kind: Kind
    name: str
    # The factory's arguments with defaults filled in, as JSON-safe values.
    args: Mapping[str, Any] = field(default_factory=dict)
    # A scorer's: the metrics its scores feed, and whether it runs the generated code (so its
    # tasks need the sandbox, checked before a run starts).
    metrics: tuple[str, ...] = ()
    runs_code: bool = False

    def as_dict(self) -> dict[str, Any]:
        """What the store keeps of a build (its task's metrics are kept beside it)."""
        return {"name": self.name, "args": dict(self.args)}


_FACTORIES: dict[Kind, dict[str, Callable[..., Any]]] = {"scorer": {}, "solver": {}}
_INFO = "__assay_build__"


def did_you_mean(kind: str, name: str, known: Sequence[str], listing: str) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"unknown {kind} {name!r}: {hint}known: {', '.join(known)} ({listing})"


def scorer(
    *, metrics: Sequence[str] = ("mean",), name: str | None = None, runs_code: bool = False
) -> Callable[[Factory], Factory]:
    """Registers a scorer factory; `metrics` are the ones its scores feed (see METRICS);
    `runs_code`: it runs the model's code, so a task it scores needs the sandbox."""
    unknown = [metric for metric in metrics if metric not in METRICS]
    if unknown or "mean" not in metrics:
        raise SpecError(
            f"@scorer(metrics={list(metrics)!r}): metrics must include 'mean' and be among "
            f"{', '.join(METRICS)}"
        )
    return _registering("scorer", name, tuple(metrics), runs_code)


def solver(*, name: str | None = None) -> Callable[[Factory], Factory]:
    """Registers a solver factory."""
    return _registering("solver", name, (), False)


def _registering(
    kind: Kind, name: str | None, metrics: tuple[str, ...], runs_code: bool
) -> Callable[[Factory], Factory]:
    def register(factory: Factory) -> Factory:
        registered = name or factory.__name__
        known = _FACTORIES[kind].get(registered)
        if known is not None and getattr(known, "__wrapped__", None) is not factory:
            raise SpecError(f"{kind} {registered!r} is registered twice; give one a name=")
        signature = inspect.signature(factory)

        @functools.wraps(factory)
        def build(*args: Any, **kwargs: Any) -> Any:
            built = factory(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            info = BuildInfo(kind, registered, _json_safe(bound.arguments), metrics, runs_code)
            setattr(built, _INFO, info)
            return built

        _FACTORIES[kind][registered] = build
        return build  # type: ignore[return-value]  # functools.wraps keeps the signature

    return register


def build_info(built: object) -> BuildInfo | None:
    """How a scorer or solver was built; None for one its factory did not register."""
    info = getattr(built, _INFO, None)
    return info if isinstance(info, BuildInfo) else None


def scorer_metrics(built: object) -> tuple[str, ...]:
    """The metrics a scorer's scores feed; an unregistered scorer feeds the mean only."""
    info = build_info(built)
    return info.metrics if info is not None else ("mean",)


def registered(kind: Kind) -> list[str]:
    return sorted(_FACTORIES[kind])


def get_factory(kind: Kind, name: str) -> Callable[..., Any]:
    try:
        return _FACTORIES[kind][name]
    except KeyError:
        raise SpecError(did_you_mean(kind, name, registered(kind), f"see assay.{kind}s")) from None


def _json_safe(value: Any) -> Any:
    """Arguments as the store can keep them: JSON values as they are, containers and
    dataclasses field by field, functions by name, other objects by their repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_json_safe(item) for item in items]
    info = build_info(value)
    if info is not None:
        return info.as_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"type": type(value).__name__, **_json_safe(fields)}
    if callable(value) and hasattr(value, "__qualname__"):
        # A function by its name: a repr would hold its address, different in every process.
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return repr(value)  # every JSON value was returned above
