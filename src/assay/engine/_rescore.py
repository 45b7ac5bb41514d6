"""`assay rescore`: a stored run scored again from the answers the store holds, sending nothing.

Every request a task's solvers make is answered from the run's stored responses (failed ones
too, so an error stays the same error); the tasks' current solvers and scorers run over them,
their scores replace the stored ones, and the engine computes the metrics afresh. A request the
store has no answer for (the run stopped before sending it) is an error of class `not_stored`.
"""

from __future__ import annotations

from typing import Any

from assay._errors import ErrorClass, SpecError, TargetError
from assay._redact import redacted
from assay.core import Capabilities, Request, Response, TargetRole


class StoredTarget:
    """A target of a stored run, as the store recorded it: its identity (so cache keys match)
    and capabilities (so prompts are rendered as they were); it answers nothing itself."""

    def __init__(self, role: TargetRole, spec: str, model: str, capabilities: Capabilities) -> None:
        self.role = role
        self._spec = spec
        self._model = model
        self._capabilities = capabilities

    @property
    def spec(self) -> str:
        return self._spec

    @property
    def model(self) -> str:
        return self._model

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def max_concurrency(self) -> int:
        return 1024  # answers come from memory

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, request: Request) -> Response:
        raise TargetError(
            f"the store holds no answer of the {self.role} for this request; resume the run "
            "with assay run --run-id RUN to send what is missing, then rescore",
            error_class=ErrorClass.NOT_STORED,
        )


def stored_target(run: dict[str, Any], role: TargetRole) -> StoredTarget | None:
    """The run's target in `role` as its row and manifest recorded it; None when the run had
    none in that role."""
    if role == "target":
        spec, model, capabilities = run["target_spec"], run["model"], run["capabilities"]
    else:
        entry = (run["manifest"] or {}).get(role)
        if entry is None:
            return None
        # Manifests written before role targets recorded capabilities: the defaults (chat).
        spec, model, capabilities = entry["spec"], entry["model"], entry.get("capabilities", {})
    if redacted(spec):
        raise SpecError(
            f"run {run['run_id']}: its {role}'s target string had credentials, redacted when "
            "stored, and its cache keys hold them: rescore cannot match its answers"
        )
    return StoredTarget(role, spec, model, Capabilities.model_validate(capabilities))
