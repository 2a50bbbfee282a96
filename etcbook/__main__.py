from etcbook.cli import main

raise SystemExit(main())
