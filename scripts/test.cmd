@echo off
rem Windows: runs scripts\test.ps1 (PowerShell) with the same arguments.
powershell -NoProfile -ExecutionPolicy Bypass -File "%~dp0test.ps1" %*
exit /b %ERRORLEVEL%
