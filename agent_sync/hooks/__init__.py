"""Hook entry points for Claude Code and other agents."""
