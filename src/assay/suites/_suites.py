"""Load suite YAML files: built-in ones by name, or a user's file by path."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay._errors import SpecError


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
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return _parse(path.read_text("utf-8"), str(path))
    resource = files("assay.suites").joinpath(f"{name}.yaml")
    if not resource.is_file():
        from assay.tasks._task import did_you_mean

        raise SpecError(did_you_mean("suite", name, suite_names(), "assay list suites"))
    return _parse(resource.read_text("utf-8"), f"suite {name}")


def _parse(text: str, where: str) -> Suite:
    try:
        return Suite.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise SpecError(f"{where}: not valid YAML ({exc}); fix the file") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise SpecError(f"{where}: field {field}: {first['msg']}") from None
