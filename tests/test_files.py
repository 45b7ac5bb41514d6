"""One formatter for every config file a user writes: run specs, suites, monitor configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay._errors import SpecError
from assay.perf._monitor import load_monitor_config
from assay.spec import load_spec_file


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
