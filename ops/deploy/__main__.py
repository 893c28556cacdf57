from ops.deploy.cli import main

raise SystemExit(main())
