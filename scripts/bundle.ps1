# Build the frozen one-folder app at dist\etcbook\ (PyInstaller), setting everything up first
# (Windows): dist\etcbook\etcbook.exe (command line and window), etcbook-gui.exe (window only).
. (Join-Path $PSScriptRoot "bootstrap.ps1")
Ensure-Venv "bundle"
Set-Location $Root
& $VenvPython packaging\build_bundle.py @args
exit $LASTEXITCODE
