from calbot.cli.main import main

raise SystemExit(main())
