"""One small module per command: parse options -> call ModelRegistry -> render."""
