"""The coordination model and its store: agents, locks, tasks, messages, the journal and their views.

The rule of this package: nothing here imports an adapter (cli, hooks, install,
console, mcp), argparse or curses. tests/test_layering.py enforces it.
"""
