; Inno Setup script: a per-user Windows installer for the frozen app in dist\etcbook
; (built by scripts\bundle.cmd first). The GitHub Actions workflow compiles it on windows-latest:
;   iscc /DAppVersion=0.1.0 packaging\windows\etcbook.iss      -> dist\etcbook-0.1.0-setup.exe
; No administrator rights are needed; the user's data (the store, the vault) is never touched by
; the installer or the uninstaller.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6F1B7C2A-3E4D-4B8A-9C51-2D7E0A9F4B13}
AppName=etcbook
AppVersion={#AppVersion}
AppPublisher=etcbook
DefaultDirName={autopf}\etcbook
DefaultGroupName=etcbook
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SetupIconFile=..\..\etcbook\resources\icons\etcbook.ico
UninstallDisplayIcon={app}\etcbook-gui.exe
OutputDir=..\..\dist
OutputBaseFilename=etcbook-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "japanese"; MessagesFile: "compiler:Languages\Japanese.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\etcbook\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\etcbook"; Filename: "{app}\etcbook-gui.exe"
Name: "{autodesktop}\etcbook"; Filename: "{app}\etcbook-gui.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\etcbook-gui.exe"; Description: "{cm:LaunchProgram,etcbook}"; Flags: nowait postinstall skipifsilent
