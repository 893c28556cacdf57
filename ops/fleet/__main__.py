from ops.fleet.cli import main

raise SystemExit(main())
