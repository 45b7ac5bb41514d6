"""Reading the files a user hands assay (suites, run specs, monitor configs, JSONL files).

Every way such a file can be wrong (missing, a directory, unreadable, not UTF-8, bad YAML, TOML
or JSON, a field Pydantic refuses) ends in one line that names the file, with line and column
where there is one.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assay._errors import AssayError, DatasetError, SpecError

# Python 3.11's tomllib puts the position only in the message: "... (at line 1, column 5)".
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def read_text(path: Path, what: str, error: type[AssayError] = SpecError) -> str:
    """The file's text; `what` names it in the message ("suite file", "run spec")."""
    return decode_utf8(path, read_bytes(path, what, error), what, error)


def read_bytes(path: Path, what: str, error: type[AssayError] = SpecError) -> bytes:
    """The file's bytes, or one line saying why it cannot be read and what to do."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: {what} not found; check the path") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a {what}; pass the file's path") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror}); check the path") from None


def decode_utf8(path: Path, data: bytes, what: str, error: type[AssayError] = SpecError) -> str:
    """`data` (read from `path`) as text, or one line naming the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{not_utf8(path, data, exc)}; save the {what} as UTF-8") from None


def not_utf8(path: Path, data: bytes, exc: UnicodeDecodeError) -> str:
    """`PATH:LINE:COLUMN: not UTF-8 (byte 0xNN at offset N)`; the column counts bytes."""
    before = data[: exc.start]
    line = 1 + before.count(b"\n")
    column = exc.start - (before.rfind(b"\n") + 1) + 1
    return f"{path}:{line}:{column}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"


def syntax_error(where: str, exc: yaml.YAMLError | tomllib.TOMLDecodeError) -> str:
    """One line for a YAML or TOML parse error: `WHERE:LINE:COLUMN: not valid YAML (problem)`."""
    if isinstance(exc, tomllib.TOMLDecodeError):
        message = str(exc).splitlines()[0] if str(exc) else "syntax error"
        found = _TOML_AT.search(message)
        position = f":{found[1]}:{found[2]}" if found else ""
        problem = _TOML_AT.sub("", message)
        return f"{where}{position}: not valid TOML ({problem}); fix the file"
    mark = getattr(exc, "problem_mark", None)
    position = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["syntax error"])[0]
    context = getattr(exc, "context", None)
    detail = f"{problem}, {context}" if context else problem
    return f"{where}{position}: not valid YAML ({detail}); fix the file"


def load_yaml_or_toml(path: Path, what: str) -> object:
    """Parse a `.toml` file as TOML, anything else as YAML; errors as one SpecError line."""
    text = read_text(path, what)
    try:
        return tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(syntax_error(str(path), exc)) from None


def jsonl_objects(
    path: Path | str, text: str, error: type[AssayError] = DatasetError
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file's text; a line that is not
    a JSON object raises one line naming `PATH:LINE`. A leading byte-order mark is skipped."""
    # Universal newlines, as text mode reads them: str.splitlines() would also split inside
    # JSON strings at U+2028 and friends, which JSON leaves unescaped.
    lines = io.StringIO(text.removeprefix("\ufeff"), newline=None)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}: not valid JSON ({exc.msg}); fix or remove the line") from None
        if not isinstance(record, dict):
            kind = type(record).__name__
            raise error(f"{where}: expected a JSON object, got {kind}; fix or remove the line")
        yield number, record


def read_jsonl(
    path: Path, what: str, error: type[AssayError] = DatasetError
) -> Iterator[tuple[int, dict[str, Any]]]:
    """`jsonl_objects` of the file at `path`; `what` names it in the message ("answers file")."""
    return jsonl_objects(path, read_text(path, what, error), error)


def invalid_field(where: str, exc: ValidationError, *, whole: str = "spec", skip: int = 0) -> str:
    """`WHERE: field 'a.b': problem` for the first error Pydantic found; `skip` drops leading
    parts of the location the caller already put in `where`, `whole` names an empty one."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"][skip:]) or whole
    # A validator's ValueError arrives as "Value error, <our message>".
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: field {field!r}: {message}"
