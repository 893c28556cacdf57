from ops.compliance.cli import main

raise SystemExit(main())
