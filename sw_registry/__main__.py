"""python -m sw_registry"""

from sw_registry.cli.app import main

raise SystemExit(main())
