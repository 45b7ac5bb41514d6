"""A target that answers from saved outputs, so outputs produced elsewhere can be scored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay._errors import DatasetError, ErrorClass
from assay._files import read_jsonl
from assay.core import Capabilities, Request, Response, Usage


class FileTarget:
    """Reads `{"sample_id" | "input", "output"}` JSON lines; a sample not found is an error."""

    def __init__(self, path: str) -> None:
        self._path = Path(path)
        self._by_id: dict[str, str] = {}
        self._by_input: dict[str, str] = {}

    @property
    def spec(self) -> str:
        return f"file:{self._path}"

    @property
    def model(self) -> str:
        return self._path.name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(chat=True, completion=True)

    @property
    def max_concurrency(self) -> int:
        return 1024

    async def start(self) -> None:
        if not self._path.is_file():
            raise DatasetError(f"{self._path}: answers file not found; pass file:<path to .jsonl>")
        for number, row in read_jsonl(self._path, "answers file", DatasetError):
            self._add(number, row)

    def _add(self, number: int, row: dict[str, Any]) -> None:
        where = f"{self._path}:{number}"
        if not isinstance(row.get("output"), str):
            raise DatasetError(f'{where}: needs a string field "output"; fix the line')
        if isinstance(row.get("sample_id"), str):
            self._by_id[row["sample_id"]] = row["output"]
        elif isinstance(row.get("input"), str):
            self._by_input[row["input"]] = row["output"]
        else:
            raise DatasetError(f'{where}: needs "sample_id" or "input" (a string); fix the line')

    async def send(self, request: Request) -> Response:
        if request.config.continuation is not None:
            return Response(
                error=ErrorClass.MALFORMED,
                error_detail=f"{self._path} holds generated answers, not likelihoods; "
                "score this task on a target with logprobs",
            )
        output = self._by_id.get(request.sample_id)
        if output is None:
            output = self._by_input.get(request.sample_input)
        if output is None:
            return Response(
                error=ErrorClass.MALFORMED,
                error_detail=f"no answer for sample {request.sample_id} in {self._path}",
            )
        return Response(text=output, finish_reason="stop", usage=Usage(source="none"))

    async def close(self) -> None:
        return None
