"""RunSpec: everything that defines a run, validated; loaded from options or a YAML/TOML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assay._errors import SpecError
from assay._files import invalid_field, load_yaml_or_toml
from assay._redact import redact
from assay.core import TargetRole

# The spec fields that name a role's target (see `assay.core.TargetRole`).
ROLE_FIELDS = ("target", "judge_target", "attacker_target", "attacker_judge_target")


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
    # The target that writes attacks for safety tasks that need one, and the one that grades
    # them for the attacker; each kept apart from `target` like the judge.
    attacker_target: str | None = None
    attacker_judge_target: str | None = None
    # The judge of safety tasks' verdicts: "offline" (the refusal and harm classifiers, no
    # network) or "llm" (the judge target with a pinned rubric; needs judge_target).
    safety_judge: Literal["offline", "llm"] = "offline"
    # Extra checks planned beside the tasks; "contamination" adds perturbed variants of each
    # multiple-choice or math task and reports the paired drop in accuracy.
    probes: tuple[Literal["contamination"], ...] = ()
    # Run generated code (code tasks) even where Linux namespaces are refused: then it runs as
    # the user's own uid behind only a Python socket guard. Off: such a run is refused up front.
    allow_weak_sandbox: bool = False

    @model_validator(mode="after")
    def _judge_apart_from_attackers(self) -> RunSpec:
        # A judge that also writes the attacks would grade its own work.
        if self.judge_target is not None and self.judge_target in (
            self.attacker_target,
            self.attacker_judge_target,
        ):
            raise ValueError(
                "judge_target must differ from attacker_target and attacker_judge_target: "
                "the judge of the verdicts is kept apart from the attacker"
            )
        return self

    def role_target(self, role: TargetRole) -> str | None:
        """The target string the run names for a role ("target": the one under test), from
        the field `<role>_target`; None for a role it names none for."""
        value = self.target if role == "target" else getattr(self, f"{role}_target")
        return None if value is None else str(value)

    def without_secrets(self) -> RunSpec:
        """The spec as written to the manifest: credentials in target URLs redacted."""
        return self.model_copy(
            update={
                field: None if (value := getattr(self, field)) is None else redact(value)
                for field in ROLE_FIELDS
            }
        )

    def identity(self) -> dict[str, Any]:
        """The fields that must match when a run is resumed (concurrency may change), as the
        manifest keeps them (redacted)."""
        return self.without_secrets().model_dump(
            exclude={"concurrency", "data_dir", "allow_weak_sandbox"}
        )


def load_spec_file(path: Path) -> RunSpec:
    raw = load_yaml_or_toml(path, "run spec")
    if raw is not None and not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping of RunSpec fields (target, tasks, ...)")
    return build_spec(raw or {}, where=str(path))


def build_spec(raw: dict[str, Any], *, where: str = "options") -> RunSpec:
    try:
        return RunSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(invalid_field(where, exc)) from None
