"""One formatter for every file a user writes: run specs, suites, monitor configs, JSONL files."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest

from assay._errors import DatasetError, SpecError
from assay._files import read_jsonl
from assay.perf._monitor import load_monitor_config
from assay.spec import load_spec_file
from assay.suites import get_suite
from assay.targets._file import FileTarget
from assay.tasks import _loaders as loaders


def one_line(error: pytest.ExceptionInfo[SpecError]) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_yaml_and_toml_errors_name_file_line_and_column(tmp_path: Path) -> None:
    monitor = tmp_path / "monitor.yaml"
    monitor.write_text("endpoints:\n  - name: a\n    url: [http://h/v1\n", "utf-8")
    with pytest.raises(SpecError) as raised:
        load_monitor_config(monitor)
    assert one_line(raised).startswith(f"{monitor}:4:1: not valid YAML (")
    spec = tmp_path / "run.toml"
    spec.write_text('target = "builtin"\nlimit = \n', "utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec_file(spec)
    assert one_line(raised) == f"{spec}:2:9: not valid TOML (Invalid value); fix the file"


def test_unreadable_config_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as raised:
        load_spec_file(tmp_path)
    assert one_line(raised) == f"{tmp_path}: is a directory, not a run spec; pass the file's path"
    latin1 = tmp_path / "monitor.yaml"
    latin1.write_bytes(b"endpoints:\n  - name: caf\xe9\n")
    with pytest.raises(SpecError) as raised:
        load_monitor_config(latin1)
    assert one_line(raised).startswith(f"{latin1}:2:14: not UTF-8 (byte 0xe9 at offset 24)")


def test_suite_and_run_spec_name_the_refused_field_alike(tmp_path: Path) -> None:
    suite = tmp_path / "mine.yaml"
    suite.write_text("name: mine\ntasks:\n  - {task: arithmetic, weight: 0}\n", "utf-8")
    with pytest.raises(SpecError) as raised:
        get_suite(str(suite))
    assert one_line(raised) == (f"{suite}: field 'tasks.0.weight': Input should be greater than 0")
    spec = tmp_path / "run.yaml"
    spec.write_text("epochs: 0\n", "utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec_file(spec)
    assert one_line(raised) == (
        f"{spec}: field 'epochs': Input should be greater than or equal to 1"
    )


def test_jsonl_lines_split_only_at_newlines_and_skip_a_byte_order_mark(tmp_path: Path) -> None:
    # U+2028 is legal unescaped inside a JSON string; str.splitlines() would cut the line there.
    answers = tmp_path / "answers.jsonl"
    answers.write_text('\ufeff{"input": "a", "output": "x\u2028y"}\r\n\n{"input": "b"}\n', "utf-8")
    with pytest.raises(DatasetError) as raised:
        asyncio.run(FileTarget(str(answers)).start())
    assert str(raised.value) == f'{answers}:3: needs a string field "output"; fix the line'
    first = next(read_jsonl(answers, "answers file"))
    assert first == (1, {"input": "a", "output": "x\u2028y"})


def test_jsonl_line_that_is_not_an_object_names_path_and_line(tmp_path: Path) -> None:
    data = tmp_path / "test.jsonl"
    data.write_text('{"question": "q"}\n["q"]\n', "utf-8")
    with pytest.raises(DatasetError) as raised:
        loaders.read_jsonl(data)
    message = f"{data}:2: expected a JSON object, got list; fix or remove the line"
    assert str(raised.value) == message


@pytest.mark.parametrize("name", ["test.jsonl", "HumanEval.jsonl.gz"])
def test_dataset_jsonl_that_is_not_utf8_names_line_and_byte(name: str, tmp_path: Path) -> None:
    data = tmp_path / name
    latin1 = b'{"question": "a"}\n{"question": "caf\xe9"}\n'
    data.write_bytes(gzip.compress(latin1) if name.endswith(".gz") else latin1)
    with pytest.raises(DatasetError) as raised:
        loaders.read_jsonl(data)
    assert str(raised.value) == (
        f"{data}:2:18: not UTF-8 (byte 0xe9 at offset 35); save the data file as UTF-8"
    )
