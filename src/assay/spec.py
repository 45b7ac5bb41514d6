"""RunSpec: everything that defines a run, validated; loaded from options or a YAML/TOML file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay._errors import SpecError


class RunSpec(BaseModel):
    """What to run. Stored in the manifest, so a run can be resumed or rebuilt from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = "builtin"
    suite: str | None = "quick"
    tasks: tuple[str, ...] = ()
    limit: int | None = Field(default=None, gt=0)
    seed: int = 0
    epochs: int = Field(default=1, ge=1)
    concurrency: int = Field(default=32, ge=1)
    data_dir: str | None = None
    # The target that grades answers for tasks scored by an LLM judge; kept apart from `target`.
    judge_target: str | None = None
    # Extra checks planned beside the tasks; "contamination" adds perturbed variants of each
    # multiple-choice or math task and reports the paired drop in accuracy.
    probes: tuple[Literal["contamination"], ...] = ()

    def identity(self) -> dict[str, Any]:
        """The fields that must match when a run is resumed (concurrency may change)."""
        return self.model_dump(exclude={"concurrency", "data_dir"})


def load_spec_file(path: Path) -> RunSpec:
    try:
        text = path.read_text("utf-8")
        raw = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror})") from None
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{path}: not valid YAML/TOML ({exc})") from None
    return build_spec(raw or {}, where=str(path))


def build_spec(raw: dict[str, Any], *, where: str = "options") -> RunSpec:
    try:
        return RunSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "spec"
        raise SpecError(f"{where}: field {field!r}: {first['msg']}") from None
