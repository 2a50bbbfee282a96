@echo off
rem Windows: runs scripts\app.ps1 (PowerShell) with the same arguments.
powershell -NoProfile -ExecutionPolicy Bypass -File "%~dp0app.ps1" %*
exit /b %ERRORLEVEL%
