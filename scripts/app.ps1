# Open etcbook on the sample store (created on first run), setting everything up first (Windows).
# Pass --db PATH to open another store instead. From cmd or Explorer: scripts\app.cmd
. (Join-Path $PSScriptRoot "bootstrap.ps1")
Ensure-Venv "test,dev"
Set-Location $Root
$etcbook = Join-Path $Venv "Scripts\etcbook.exe"
$arguments = @($args)
if ($arguments.Count -eq 0) {
    $sample = Join-Path $Root "sample-store\etcbook.sqlite3"
    if (-not (Test-Path $sample)) {
        New-Item -ItemType Directory -Force -Path (Split-Path -Parent $sample) | Out-Null
        Invoke-Checked $etcbook @("--db", $sample, "demo")
    }
    $arguments = @("--db", $sample)
}
& $etcbook @arguments
exit $LASTEXITCODE
