"""The app as users get it: the wheel's smoke job, the frozen bundle's size and its start-up.

    python benchmarks/packaging.py [--runs 9] [--reuse-bundle]

1. Wheel: ``python -m build --wheel`` on a copy of the checkout, a new virtual environment
   outside it with the wheel installed (pip may use its cache), then ``etcbook demo`` and a claim
   ``report`` from another folder (packaging/smoke.py runs every step; its window step is not
   part of the timed job). Goal: under 3 minutes.
2. Bundle: packaging/build_bundle.py (PyInstaller) builds dist/etcbook/ (``--reuse-bundle`` takes
   the one scripts/bundle left instead); its size on disk. Goal: at most 250 MB.
3. Start-up: the frozen ``dist/etcbook/etcbook --db STORE`` against the installed package's
   ``etcbook --db STORE`` (the baseline: the wheel's venv of step 1), started alternately on the
   same demo store, from the spawn until the window has claimed its store (the first thing it
   does once it is shown; the lock file beside the store then names the process). Medians.
   Goal: ratio frozen / installed ≤ 1.5.

No assertion: the figures are printed for the closing note.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZE_GOAL_MB = 250


def _load(name: str, path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--reuse-bundle", action="store_true")
    args = parser.parse_args()
    smoke = _load("etcbook_smoke", ROOT / "packaging" / "smoke.py")
    bundler = _load("etcbook_build_bundle", ROOT / "packaging" / "build_bundle.py")
    from benchkit import report_result

    with tempfile.TemporaryDirectory(prefix="etcbook-packaging-") as folder:
        work = Path(folder)
        begin = time.perf_counter()
        wheel = smoke.build_wheel(ROOT, work / "dist")
        built = time.perf_counter() - begin
        bin_dir = smoke.install_wheel(wheel, work / "venv")
        installed = time.perf_counter() - begin - built
        installed_cmd = [str(bin_dir / "etcbook")]
        times = smoke.smoke(installed_cmd, work / "wheel smoke", stay_s=0.5)
        wheel_job = built + installed + times["demo"] + times["report"]
        print(
            f"wheel: build {built:.1f} s, venv + install {installed:.1f} s, demo "
            f"{times['demo']:.1f} s, report {times['report']:.1f} s: {wheel_job:.1f} s (goal < 180 s)"
        )

        begin = time.perf_counter()
        if not args.reuse_bundle:
            subprocess.run(
                [sys.executable, str(ROOT / "packaging" / "build_bundle.py")], check=True
            )
        bundle_s = time.perf_counter() - begin
        app = bundler.APP
        frozen_cmd = [str(app / ("etcbook.exe" if os.name == "nt" else "etcbook"))]
        size_mb = bundler.size_on_disk(app) / 1e6
        print(f"bundle: {app}, {size_mb:.0f} MB on disk (goal ≤ {SIZE_GOAL_MB} MB)")

        store = next((work / "wheel smoke").rglob("etcbook.sqlite3"))
        env = smoke.clean_env(work)
        for cmd in (installed_cmd, frozen_cmd):  # warm the file cache for both
            smoke.wait_for_window(cmd, store, cwd=work, env=env, stay_s=0)
        frozen: list[float] = []
        package: list[float] = []
        for _ in range(args.runs):
            package.append(smoke.wait_for_window(installed_cmd, store, cwd=work, env=env, stay_s=0))
            frozen.append(smoke.wait_for_window(frozen_cmd, store, cwd=work, env=env, stay_s=0))
    ours, base = statistics.median(frozen), statistics.median(package)
    print(f"start to main window (medians of {args.runs}): installed package {base * 1000:.0f} ms,")
    print(
        f"  frozen bundle {ours * 1000:.0f} ms; ratio frozen / installed: {ours / base:.2f} (goal ≤ 1.5)"
    )

    report_result(
        "wheel: build + install + demo + report",
        etcbook_s=wheel_job,
        baseline_s=None,
        goal="< 180 s",
        met=wheel_job < 180,
        build_s=built,
        install_s=installed,
        demo_s=times["demo"],
        report_s=times["report"],
    )
    report_result(
        f"bundle built, {size_mb:.0f} MB on disk" + (" (reused)" if args.reuse_bundle else ""),
        etcbook_s=bundle_s,
        baseline_s=None,
        goal=f"size <= {SIZE_GOAL_MB} MB",
        met=size_mb <= SIZE_GOAL_MB,
        size_mb=size_mb,
    )
    report_result(
        "frozen app: start to main window (vs installed package)",
        etcbook_s=ours,
        baseline_s=base,
        goal="ratio <= 1.5",
        met=ours / base <= 1.5,
        runs=args.runs,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
