from calbot.cli import main

raise SystemExit(main())
