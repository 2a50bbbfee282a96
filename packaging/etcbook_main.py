"""The frozen app's entry script (packaging/etcbook.spec): the same command line as ``etcbook``."""

from etcbook.cli import gui_main

raise SystemExit(gui_main())
