"""The block `install --agent` writes into an agent's instructions file, for agents whose shell exports no session id.

Gemini CLI's shell tool carries nothing that names the session, so a CLI call
the model makes would run as the repository's local id, and a lock taken that
way would block the model's own edits. GEMINI.md (which Gemini loads into the
model's context) tells the model the command form that keeps its identity; the
session-start note gives it the id.

The block sits between BEGIN and END lines. Installing again rewrites only the
block; uninstall removes it, and the file too if nothing else is left. The
user's own text is never changed.
"""

import os

from . import project, settings_merge

BEGIN = "<!-- agent-sync: begin (written by `agent-sync install`; `agent-sync uninstall` removes it) -->"
END = "<!-- agent-sync: end -->"
SKILL_PYZ = ".claude/skills/agent-sync/agent-sync.pyz"

GEMINI = f"""## agent-sync: run it as yourself

Gemini CLI's shell does not tell agent-sync which session you are. At the start of each
session agent-sync tells you your id ("agent-sync knows this session as s-..."). Put that
id in front of every agent-sync command you run in the shell, from the repository root:

    AGENT_SYNC_ID=<your id> python3 -I -S {SKILL_PYZ} <command>

Without it, the locks you take belong to another identity and block your own edits."""

FILES = {"gemini": ("GEMINI.md", GEMINI)}


def path_of(root, name):
    return os.path.join(root, FILES[name][0])


def install(root, name):
    """Write (or refresh) the block. Returns 'created', 'updated' or 'unchanged'."""
    path = path_of(root, name)
    before = _read(path)
    block = f"{BEGIN}\n{FILES[name][1]}\n{END}\n"
    span = _span(before, path) if before is not None else None
    if before is None or not _without_block(before, span).strip():
        after = block
    elif span:
        after = before[:span[0]] + block.rstrip("\n") + before[span[1]:]
        after = after if after.endswith("\n") else after + "\n"
    else:
        after = before + ("" if before.endswith("\n") else "\n") + "\n" + block
    if after == before:
        return "unchanged"
    project.write_atomic(path, after.encode("utf-8"))
    return "created" if before is None else "updated"


def uninstall(root, name):
    """Take the block out; delete the file when only whitespace is left. True if anything changed."""
    path = path_of(root, name)
    before = _read(path)
    span = _span(before, path) if before is not None else None
    if not span:
        return False
    after = _without_block(before, span)
    if after.strip():
        project.write_atomic(path, after.encode("utf-8"))
    else:
        os.remove(path)
    return True


def _span(text, path):
    """(start, end) of our block in `text`, or None. A begin line without its end line is refused."""
    if BEGIN not in text:
        return None
    start = text.index(BEGIN)
    if END not in text[start:]:
        raise settings_merge.InvalidSettings(f"{path}: the agent-sync block has its begin line but not its end line "
                                             f"({END}); fix it by hand, the file was not changed")
    return start, text.index(END, start) + len(END)


def _without_block(text, span):
    """The text with our block, and the blank line install put before it, removed."""
    if not span:
        return text
    head, tail = text[:span[0]], text[span[1]:]
    if tail.startswith("\n"):
        tail = tail[1:]
    if head.endswith("\n\n"):
        head = head[:-1]
    return head + tail


def _read(path):
    """The file's text; None when it does not exist. Text that is not UTF-8 is refused, unchanged."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise settings_merge.InvalidSettings(f"{path}: not UTF-8 text (byte {exc.start}); the file was not changed"
                                             ) from None


def preflight(root, name):
    """Refuse before anything is written when the instructions file cannot be read."""
    if name in FILES:
        _read(path_of(root, name))
