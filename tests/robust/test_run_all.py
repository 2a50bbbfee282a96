"""benchmarks/run_all.py: runs each benchmark, parses its RESULT line, builds one table."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


run_all = _load("run_all")
benchkit = _load("benchkit")


def test_report_result_prints_a_line_run_all_parses(capsys: pytest.CaptureFixture[str]) -> None:
    returned = benchkit.report_result(
        "import 10 rows",
        etcbook_s=2.0,
        baseline_s=1.0,
        peak_mb=50.5,
        goal="ratio <= 2.0",
        met=True,
        rows=10,
    )
    out = capsys.readouterr().out
    assert out.startswith("RESULT {") and out.endswith("}\n") and out.count("\n") == 1
    (parsed,) = run_all.parse_results("figures for people\n" + out)
    assert parsed == returned
    assert parsed["ratio"] == 2.0 and parsed["extra"] == {"rows": 10}


def _write(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")


def test_run_all_collects_every_benchmark_into_one_table(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "fast",
        """
        from benchkit import report_result
        print("fast: 12 ms against 10 ms")
        report_result("fast job", etcbook_s=0.012, baseline_s=0.010, goal="ratio <= 1.5", met=True)
        """,
    )
    _write(
        tmp_path,
        "two_jobs",
        """
        from benchkit import report_result
        report_result("first", etcbook_s=3.0, baseline_s=2.0, peak_mb=120.0)
        report_result("second", etcbook_s=0.5, baseline_s=None, goal="< 1 s", met=False)
        """,
    )
    _write(tmp_path, "silent", 'print("no machine-readable line here")\n')
    _write(tmp_path, "broken", "raise SystemExit(4)\n")
    _write(tmp_path, "_helper", "raise SystemExit('helpers are not benchmarks')\n")
    (tmp_path / "benchkit.py").write_text((BENCHMARKS / "benchkit.py").read_text(encoding="utf-8"))
    out_md, out_json = tmp_path / "out" / "results.md", tmp_path / "out" / "results.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = run_all.main(
            [
                "--dir",
                str(tmp_path),
                "--out",
                str(out_md),
                "--json",
                str(out_json),
                "--timeout",
                "120",
            ]
        )
    assert status == 1  # two benchmarks did not report
    table = stdout.getvalue()
    assert table == out_md.read_text(encoding="utf-8")
    lines = table.splitlines()
    assert lines[0] == "| job | etcbook | baseline | ratio | peak memory | goal | benchmark |"
    assert "| fast job | 12.0 ms | 10.0 ms | 1.20 |" in table
    assert "ratio <= 1.5: met" in table
    assert "| first | 3.00 s | 2.00 s | 1.50 | 120 MB |" in table
    assert "| second | 500.0 ms | – | – |" in table and "< 1 s: NOT met" in table
    assert "silent: no RESULT line" in table
    assert "broken: exit status 4" in table
    assert "_helper" not in table
    assert "fast: 12 ms against 10 ms" in stderr.getvalue()  # each benchmark's own figures
    document = json.loads(out_json.read_text(encoding="utf-8"))
    assert [r["job"] for r in document["results"]] == ["fast job", "first", "second"]
    assert {p["benchmark"] for p in document["problems"]} == {"silent", "broken"}
    # the process's own peak is shown when a result gives none
    assert "MB (process)" in table or sys.platform == "win32"


def test_every_benchmark_follows_the_convention() -> None:
    """Each benchmark in the repository prints its RESULT line through benchkit."""
    for path in run_all.discover(BENCHMARKS):
        source = path.read_text(encoding="utf-8")
        assert "report_result(" in source, (
            f"{path.name} prints no RESULT line (benchmarks/README.md)"
        )


def test_run_all_refuses_an_unknown_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_all.main(["--only", "no_such_benchmark"])
    assert exit_.value.code == 2
    assert "no_such_benchmark" in capsys.readouterr().err
