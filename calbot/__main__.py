from calbot.cli.main import entry_point

raise SystemExit(entry_point())
