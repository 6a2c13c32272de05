"""The command line: the parser and dispatch table, the command handlers, and install, guard and doctor."""
