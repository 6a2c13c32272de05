"""The operator console (curses) and `watch` (plain lines): thin views over the core.

Only `screen` and `app` import curses, and only when the console starts.
"""
