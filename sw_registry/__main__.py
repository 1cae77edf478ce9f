"""python -m sw_registry"""

from sw_registry.cli.entry import script

script()
