"""Which files an `apply_patch` envelope writes (Codex CLI, and agents that copy its format).

The envelope names every file on a header line:

    *** Begin Patch
    *** Update File: src/app.py
    *** Move to: src/main.py
    *** Add File: docs/new.md
    *** Delete File: old.txt
    *** End Patch

Imported on the hook fast path, so it imports nothing.
"""

HEADERS = ("*** Update File:", "*** Add File:", "*** Delete File:", "*** Move to:")


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
