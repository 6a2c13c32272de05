"""Which files an `apply_patch` envelope writes (Codex CLI, and agents that copy its format).

The envelope names every file on a header line:

    *** Begin Patch
    *** Update File: src/app.py
    *** Move to: src/main.py
    *** Add File: docs/new.md
    *** Delete File: old.txt
    *** End Patch

Codex also runs a patch typed into its shell tool as a heredoc
(`apply_patch <<'EOF'` ... `EOF`, optionally after `cd DIR &&`): `in_shell`
finds those.

Imported on the hook fast path, so it imports nothing beyond `os`.
"""

import os

HEADERS = ("*** Update File:", "*** Add File:", "*** Delete File:", "*** Move to:")
COMMANDS = ("apply_patch", "applypatch")


def targets(patch):
    """Paths the patch adds, updates, deletes or moves to, in order, without repeats."""
    if not isinstance(patch, str):
        return []
    found = []
    for line in patch.splitlines():  # headers start in column 0; body lines start with + - or space
        for header in HEADERS:
            if line.startswith(header):
                path = line[len(header):].strip()
                if path and path not in found:
                    found.append(path)
                break
    return found


def looks_like_patch(text):
    return isinstance(text, str) and "*** Begin Patch" in text


def in_shell(command):
    """Paths written by a patch fed to `apply_patch` on the command's first line, relative to its `cd DIR`."""
    if not looks_like_patch(command):
        return []
    first = command.lstrip().split("\n", 1)[0]
    if "<<" not in first or not any(name in first[: first.index("<<")] for name in COMMANDS):
        return []
    directory = ""
    if first.startswith("cd ") and "&&" in first:
        directory = first[3:first.index("&&")].strip().strip("'\"")
    return [os.path.join(directory, path) if directory else path for path in targets(command)]
