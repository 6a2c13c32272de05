"""Whether an agent will run this repository's hooks at all.

Some agents skip a project's hooks, silently, until the user trusts the
project; the lock gate is then off and nobody is told. One function per
agent, `(root, environ) -> None` when its hooks will run, else the exact
step the user must take. `install --agent` prints it; `doctor` reports it
and exits 8 (hooks installed but not enforced).
"""

import json
import os


def copilot(root, environ=os.environ):
    """Copilot CLI loads .github/hooks only in a trusted folder (checked against Copilot CLI 1.0.102).

    Trusted: the folder or one above it is in `trustedFolders` of $COPILOT_HOME/config.json
    (~/.copilot/config.json), which "trust this folder for future sessions" writes; or
    COPILOT_ALLOW_ALL is exactly "true" (other truthy spellings only auto-approve tools).
    """
    if environ.get("COPILOT_ALLOW_ALL") == "true":
        return None
    home = environ.get("COPILOT_HOME") or os.path.join(os.path.expanduser("~"), ".copilot")
    config = os.path.join(home, "config.json")
    if any(_within(root, folder) for folder in _copilot_trusted(config)):
        return None
    return (f"Copilot CLI skips this repository's hooks until the folder is trusted, so its edits are not "
            f"checked: start `copilot` in {root} once and choose to trust the folder for future sessions, or add "
            f"{json.dumps(root)} to \"trustedFolders\" in {config}.")


CHECKS = {"copilot": copilot}


def problems(root, names, environ=os.environ):
    """[(agent, what the user must do)] for the agents in `names` that will not run the hooks."""
    found = []
    for name in names:
        check = CHECKS.get(name)
        text = check(root, environ) if check else None
        if text:
            found.append((name, text))
    return found


def _copilot_trusted(path):
    """The folders Copilot's config trusts (the file may start with // comment lines)."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line for line in handle.read().splitlines() if not line.lstrip().startswith("//")]
        value = json.loads("\n".join(lines) or "{}")
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    if not isinstance(value, dict):
        return []
    folders = []
    for key in ("trustedFolders", "trusted_folders"):
        listed = value.get(key)
        if isinstance(listed, list):
            folders += [f for f in listed if isinstance(f, str) and f]
    return folders


def _within(root, folder):
    def norm(path):
        return os.path.normcase(os.path.realpath(os.path.expanduser(path)))

    root, folder = norm(root), norm(folder)
    return root == folder or root.startswith(folder.rstrip(os.sep) + os.sep)
