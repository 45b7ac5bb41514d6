"""Load suite YAML files: built-in ones by name, or a user's file by path."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay._errors import SpecError
from assay._files import invalid_field, load_yaml_or_toml, syntax_error
from assay.core import did_you_mean


class SuiteTask(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    weight: float = Field(default=1.0, gt=0)
    limit: int | None = Field(default=None, gt=0)


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    tasks: tuple[SuiteTask, ...]


def suite_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in files("assay.suites").iterdir()
        if entry.name.endswith(".yaml")
    )


def get_suite(name: str) -> Suite:
    """A built-in suite by name, or a user's suite file by path (a name that looks like one)."""
    if _looks_like_a_path(name):
        path = Path(name)
        return _parse(load_yaml_or_toml(path, "suite file"), str(path))
    resource = files("assay.suites").joinpath(f"{name}.yaml")
    if not resource.is_file():
        raise SpecError(did_you_mean("suite", name, suite_names(), "assay list suites"))
    where = f"suite {name}"
    try:
        raw = yaml.safe_load(resource.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(syntax_error(where, exc)) from None
    return _parse(raw, where)


def _looks_like_a_path(name: str) -> bool:
    # A file the user meant must not read as "unknown suite" when it is missing.
    return Path(name).suffix in (".yaml", ".yml") or "/" in name or os.sep in name


def _parse(raw: object, where: str) -> Suite:
    try:
        return Suite.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(invalid_field(where, exc, whole="suite")) from None
