"""Attacks are solvers: each rewrites the request in the state's last user turn (a template
frames it, an encoding hides it, a persona is set before it) and is registered with its attack
intensity level (WDTA L1-L4), family, the request languages it applies to and a description.

`@attack(...)` on a solver factory registers it both here and as a solver; `attack_solvers`
builds a composition written `base64+persona` (applied left to right: encode, then frame).
Attacks are deterministic given the run's seed: a random choice draws from `attack_rng`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

from assay._errors import SpecError
from assay.core import (
    Generate,
    Message,
    Solver,
    State,
    TargetRole,
    content_id,
    did_you_mean,
    solver,
)

Level = Literal["L1", "L2", "L3", "L4"]
LEVELS: tuple[Level, ...] = ("L1", "L2", "L3", "L4")
Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")
# Joins the attacks of a composition: `base64+persona`.
COMPOSE = "+"

Factory = TypeVar("Factory", bound=Callable[..., Solver])


@dataclass(frozen=True)
class AttackInfo:
    name: str
    level: Level
    family: str
    # The languages of the requests it applies to (a Chinese obfuscation: zh only).
    languages: tuple[Language, ...]
    description: str
    # Role targets the attack asks through `state.ask` (an attacker that translates).
    roles: tuple[TargetRole, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "level": self.level,
            "family": self.family,
            "languages": list(self.languages),
            "description": self.description,
        }


_ATTACKS: dict[str, tuple[AttackInfo, Callable[[], Solver]]] = {}


def attack(
    *,
    level: Level,
    family: str,
    description: str,
    languages: Sequence[Language] = LANGUAGES,
    roles: Sequence[TargetRole] = (),
    name: str | None = None,
) -> Callable[[Factory], Factory]:
    """Registers an attack: a solver factory taking no required argument."""
    if level not in LEVELS:
        raise SpecError(f"@attack(level={level!r}): level must be one of {', '.join(LEVELS)}")

    def register(factory: Factory) -> Factory:
        attack_name = name or factory.__name__
        if COMPOSE in attack_name:
            raise SpecError(f"attack name {attack_name!r} may not contain {COMPOSE!r}")
        if attack_name in _ATTACKS:
            raise SpecError(f"attack {attack_name!r} is registered twice; give one a name=")
        built = solver(name=f"attack/{attack_name}")(factory)
        info = AttackInfo(
            attack_name, level, family, tuple(languages), description.strip(), tuple(roles)
        )
        _ATTACKS[attack_name] = (info, built)
        return built

    return register


ATTACK_FAMILIES = "assay.safety.attacks"
ATTACK_ENTRY_POINTS = "assay.attacks"


@functools.cache
def _load_attacks() -> None:
    # The package's own families register when imported: on first use, not at import time,
    # and by name, as task discovery imports the catalogue (the families import this module);
    # then each installed package's `assay.attacks` entry point, as for tasks.
    importlib.import_module(ATTACK_FAMILIES)
    for entry_point in importlib.metadata.entry_points(group=ATTACK_ENTRY_POINTS):
        entry_point.load()


def attack_names() -> list[str]:
    _load_attacks()
    return sorted(_ATTACKS)


def attack_infos() -> list[AttackInfo]:
    _load_attacks()
    return [_ATTACKS[name][0] for name in sorted(_ATTACKS)]


def _parts(name: str) -> list[str]:
    _load_attacks()
    parts = name.split(COMPOSE)
    for part in parts:
        if part not in _ATTACKS:
            raise SpecError(did_you_mean("attack", part, sorted(_ATTACKS), "assay list attacks"))
    return parts


def attack_info(name: str) -> AttackInfo:
    """An attack's info; a composition's level is its highest part's, its languages those
    every part applies to."""
    infos = [_ATTACKS[part][0] for part in _parts(name)]
    if len(infos) == 1:
        return infos[0]
    return AttackInfo(
        name=name,
        level=max((info.level for info in infos), key=LEVELS.index),
        family=COMPOSE.join(info.family for info in infos),
        languages=tuple(
            language for language in LANGUAGES if all(language in i.languages for i in infos)
        ),
        description="; then ".join(info.description for info in infos),
        roles=tuple(dict.fromkeys(role for info in infos for role in info.roles)),
    )


@functools.cache
def attack_solvers(name: str) -> tuple[Solver, ...]:
    """The solvers of an attack or a composition, in the order they apply."""
    return tuple(_ATTACKS[part][1]() for part in _parts(name))


# -- what attacks are written with ---------------------------------------------------------------


def request_text(state: State) -> str:
    """The request as it stands: the last user turn (the prompt before any turn exists)."""
    for message in reversed(state.messages):
        if message.role == "user":
            return message.content
    return state.prompt


def with_request(state: State, text: str) -> State:
    """The state with its last user turn (or a first one) replaced by `text`."""
    messages = list(state.messages)
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            messages[index] = Message("user", text)
            break
    else:
        messages.append(Message("user", text))
    return replace(state, prompt=text, messages=tuple(messages))


def with_system(state: State, text: str) -> State:
    """The state with `text` as its system turn (before the others; an existing one is kept
    after it)."""
    messages = [m for m in state.messages if m.role != "system"]
    earlier = [m.content for m in state.messages if m.role == "system"]
    system = "\n\n".join([text, *earlier])
    return replace(state, messages=(Message("system", system), *messages))


def attack_rng(state: State, salt: str) -> random.Random:
    """A generator fixed by the sample, the run's seed, the epoch and `salt` (the attack's
    name), so an attack makes the same choices each time it is run with that seed."""
    sample = state.sample.id
    return random.Random(content_id("attack", salt, sample, state.config.seed, state.epoch))


Transform = Callable[[str, random.Random], str]


def rewrite(salt: str, transform: Transform) -> Solver:
    """The solver that replaces the request with `transform(request, rng)`."""

    async def solve(state: State, generate: Generate) -> State:
        return with_request(state, transform(request_text(state), attack_rng(state, salt)))

    return solve
