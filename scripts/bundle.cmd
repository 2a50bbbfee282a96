@echo off
rem Windows: runs scripts\bundle.ps1 (PowerShell) with the same arguments.
powershell -NoProfile -ExecutionPolicy Bypass -File "%~dp0bundle.ps1" %*
exit /b %ERRORLEVEL%
