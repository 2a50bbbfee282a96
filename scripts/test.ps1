# Run the whole test suite (unit, GUI offscreen, CLI, slow), setting everything up first (Windows).
# Extra arguments go to pytest, e.g. scripts\test.cmd tests\unit -x
# Runs on every core (pytest-xdist); ETCBOOK_TEST_WORKERS=0 runs in one process (for -s, pdb).
. (Join-Path $PSScriptRoot "bootstrap.ps1")
Ensure-Venv "test,dev"
Set-Location $Root
$env:QT_QPA_PLATFORM = "offscreen"
$workers = if ($env:ETCBOOK_TEST_WORKERS) { $env:ETCBOOK_TEST_WORKERS } else { "auto" }
& $VenvPython -m pytest -n $workers --dist loadscope @args
exit $LASTEXITCODE
