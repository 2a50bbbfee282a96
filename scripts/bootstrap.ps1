# Dot-sourced by scripts\app.ps1, scripts\test.ps1 and scripts\bundle.ps1 (Windows): create or
# refresh the project's own virtual environment in .venv and install etcbook with what it needs.
# The same steps as scripts/bootstrap.sh, with the py launcher to find Python 3.11 or newer.
$ErrorActionPreference = "Stop"

$Root = Split-Path -Parent $PSScriptRoot
$Venv = Join-Path $Root ".venv"
$VenvPython = Join-Path $Venv "Scripts\python.exe"

function Test-Python([string[]] $Command) {
    try {
        & $Command[0] @($Command | Select-Object -Skip 1) -c "import sys; raise SystemExit(sys.version_info < (3, 11))" 2>$null
        return $LASTEXITCODE -eq 0
    } catch {
        return $false
    }
}

function Find-Python {
    $candidates = @()
    if ($env:PYTHON) { $candidates += , @($env:PYTHON) }
    foreach ($version in "3.13", "3.12", "3.11") { $candidates += , @("py", "-$version") }
    $candidates += , @("python")
    foreach ($candidate in $candidates) {
        if (Test-Python $candidate) { return , $candidate }
    }
    throw "etcbook needs Python 3.11 or newer: install it from python.org (with the py launcher), or set PYTHON to its python.exe."
}

function Invoke-Checked([string] $Program, [string[]] $Arguments) {
    & $Program @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Program $($Arguments -join ' ') failed (exit $LASTEXITCODE)" }
}

# Ensure-Venv EXTRAS: install etcbook[EXTRAS] (editable) unless the stamp says pyproject.toml is
# unchanged and those extras are in already; extras installed before are kept.
function Ensure-Venv([string] $Extras) {
    if (-not (Test-Path $VenvPython)) {
        $python = Find-Python
        Write-Host "Creating $Venv"
        Invoke-Checked $python[0] (@($python | Select-Object -Skip 1) + @("-m", "venv", $Venv))
    }
    $stamp = Join-Path $Venv ".etcbook-installed"
    $hash = & $VenvPython -c "import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())" (Join-Path $Root "pyproject.toml")
    $have = if (Test-Path $stamp) { (Get-Content $stamp -Raw).Trim() } else { "" }
    $wanted = $Extras
    if ($have.StartsWith("$hash-")) {
        $wanted = $have.Substring($hash.Length + 1)
        foreach ($extra in $Extras.Split(",")) {
            if (-not (",$wanted," -like "*,$extra,*")) { $wanted = "$wanted,$extra" }
        }
    }
    $want = "$hash-$wanted"
    if ($have -ne $want) {
        Write-Host "Installing etcbook and its dependencies into $Venv"
        Invoke-Checked $VenvPython @("-m", "pip", "install", "-q", "--disable-pip-version-check", "--upgrade", "pip")
        Invoke-Checked $VenvPython @("-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", "$($Root)[$wanted]")
        Set-Content -Path $stamp -Value $want -Encoding ascii
    }
}
