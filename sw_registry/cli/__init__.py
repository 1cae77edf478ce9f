"""The command-line face: parse options, call ModelRegistry, render. No rules live here."""
