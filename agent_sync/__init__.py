"""agent-sync: coordinate several AI coding-agent sessions in one repository."""

__version__ = "0.1.0"

from .install import bundle as _bundle  # noqa: E402 - after the version, which installers read from this source

_bundle.install(__spec__)  # inside the .pyz: our modules load from its bundle (see install/bundle.py)
