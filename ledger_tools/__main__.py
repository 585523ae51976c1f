from ledger_tools.cli import main

raise SystemExit(main())
