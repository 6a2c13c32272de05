"""agent-sync: coordinate several AI coding-agent sessions in one repository."""

__version__ = "0.1.0"
