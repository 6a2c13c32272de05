"""`install` and `uninstall`: the archive, the skill and the hooks in a repository, and back out.

Everything is checked before anything is written: an unreadable settings
file or a downgrade stops the install with nothing changed. Writes are
atomic and skipped when the content is already right, so a second install
changes nothing. `merge_file` and `unmerge_file` take any settings path and
hooks object, for other agents' configuration files.
"""

import json
import os
import shutil

from . import archive as packer, command_line, package_data, probe, settings_merge
from ..core import repo
from ..core.errors import UsageError

SKILL_DIR = (".claude", "skills", "agent-sync")
PYZ = "agent-sync.pyz"
SKILL_FILES = {"SKILL.md": 0o644, "scripts/agent-sync": 0o755}  # from skill/, relative to SKILL_DIR
STATE_DIR = repo.STATE_PARTS
BACKUPS = STATE_DIR + ("backups",)
IGNORE_LINE = "/".join(STATE_DIR) + "/"
# .gitignore lines that already keep the coordination folder out of git
IGNORE_COVERED = ({lead + "/".join(STATE_DIR) + tail for lead in ("", "/") for tail in ("", "/", "/*")}
                  | {lead + STATE_DIR[0] + tail for lead in ("", "/") for tail in ("", "/")})
SETTINGS = {"shared": "settings.json", "local": "settings.local.json"}
CLAUDE_TEMPLATE = "hooks_templates/claude-settings.json"


def find_repo(start=None, force=False):
    """The top of the checkout holding `start` (nearest `.git` dir or file: worktrees get their own)."""
    start = os.path.realpath(start or os.getcwd())
    if not os.path.isdir(start):
        raise UsageError(f"{start} is not a directory")
    found = repo.nearest_checkout(start)
    if found:
        return found
    if force:
        return start
    raise UsageError(f"{start} is not inside a git repository; run `git init` first, or use --force to install there")


def claude_hooks():
    """Claude Code's hook entries, rendered for a project install."""
    template = json.loads(package_data.data(CLAUDE_TEMPLATE).decode("utf-8"))
    return settings_merge.render(template, command_line.prefix())


# ---- files -------------------------------------------------------------------------------------------------

def touched(root, agents=(), mcp=False):
    """Every path install or uninstall may write, merge or delete (repo-relative, '/'-separated)."""
    from . import agent_hooks, instructions

    rels = ["/".join(SKILL_DIR + (name,)) for name in (PYZ, *SKILL_FILES)]
    rels += [".claude/" + name for name in SETTINGS.values()]
    rels += ["/".join(BACKUPS) + "/x", ".gitignore"]
    rels += [agent_hooks.AGENTS[name].path for name in agents if name in agent_hooks.AGENTS]
    rels += [instructions.FILES[name][0] for name in agents if name in instructions.FILES]
    return rels + ([".mcp.json"] if mcp else [])


def refuse_links_out(root, rels):
    """UsageError, before anything is written, if any path leads out of the repository through a symlink.

    A cloned repository can hold `.claude/settings.json -> ~/.bashrc`; merging,
    writing or deleting through it would change a file we were never asked to
    touch. A link that stays inside the repository is fine.
    """
    top = os.path.realpath(root)
    for rel in rels:
        here = top
        for part in rel.split("/"):
            here = os.path.join(here, part)
            if not os.path.islink(here):
                continue
            target = os.path.realpath(here)
            try:
                inside = os.path.commonpath([top, target]) == top
            except ValueError:  # another drive (Windows)
                inside = False
            if not inside:
                raise UsageError(f"{_rel(top, here)} is a symbolic link to {target}, outside the repository; "
                                 "agent-sync writes only inside it, so nothing was changed. Replace the link "
                                 "with a real file or folder, then run this again")

def _path(root, *parts):
    return os.path.join(root, *parts)


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _umask_mode(mode):
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def write_atomic(path, payload, mode=None):
    """Write via a temp file in the same folder and os.replace; keep an existing file's mode."""
    path = os.path.realpath(path)  # a symlinked settings file stays a symlink
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = _umask_mode(0o644)  # never group- or world-writable, even under umask 000
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _put(path, payload, mode):
    """Write only when content or mode differ. True if something changed."""
    current = _read(path)
    if current == payload and os.stat(path).st_mode & 0o777 == mode:
        return False
    write_atomic(path, payload, mode)
    return True


def _rel(root, path):
    return os.path.relpath(path, root)


# ---- settings ----------------------------------------------------------------------------------------------

def read_settings(path):
    """(text, parsed object) of a settings file; (None, {}) when it does not exist."""
    raw = _read(path)
    if raw is None:
        return None, {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise settings_merge.InvalidSettings(f"{path}: not UTF-8 text (byte {exc.start}); the file was not changed"
                                             ) from None
    return text, settings_merge.parse(text, path)


def _save_settings(path, text, value, backup_dir):
    """Write `value` if it differs from `text`, backing up the old file first. True if written."""
    indent = settings_merge.detect_indent(text) if text else 2
    new = settings_merge.dumps(value, indent)
    if new == text:
        return False
    if text is not None:
        _backup(path, text, backup_dir)
    write_atomic(path, new.encode("utf-8"))
    return True


def _backup(path, text, backup_dir):
    """Keep the previous version, as private as the original (settings can hold secrets in `env`)."""
    if backup_dir:
        mode = os.stat(path).st_mode & 0o777
        write_atomic(os.path.join(backup_dir, os.path.basename(path) + ".bak"), text.encode("utf-8"), mode)


def merge_file(path, hooks, is_ours=command_line.is_ours, backup_dir=None):
    """Make our handlers in the settings file at `path` exactly `hooks`. True if the file changed."""
    text, value = read_settings(path)
    return _save_settings(path, text, settings_merge.merge(value, hooks, is_ours), backup_dir)


def unmerge_file(path, is_ours=command_line.is_ours, backup_dir=None):
    """Take our handlers out of the settings file at `path`; delete it if nothing else is left."""
    text, value = read_settings(path)
    if text is None or not settings_merge.has_ours(value, is_ours):
        return False
    result = settings_merge.unmerge(value, is_ours)
    if result:
        return _save_settings(path, text, result, backup_dir)
    _backup(path, text, backup_dir)
    os.remove(path)
    return True


# ---- .gitignore --------------------------------------------------------------------------------------------

def add_ignore(root):
    path = _path(root, ".gitignore")
    raw = _read(path)
    text = "" if raw is None else raw.decode("utf-8", "surrogateescape")
    if any(line.strip() in IGNORE_COVERED for line in text.splitlines()):
        return False
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith("\n"):
        text += newline
    write_atomic(path, (text + IGNORE_LINE + newline).encode("utf-8", "surrogateescape"))
    return True


def remove_ignore(root):
    path = _path(root, ".gitignore")
    raw = _read(path)
    if raw is None:
        return False
    lines = raw.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() != IGNORE_LINE]
    if len(kept) == len(lines):
        return False
    text = "".join(kept)
    if text.strip():
        write_atomic(path, text.encode("utf-8", "surrogateescape"))
    else:
        os.remove(path)
    return True


# ---- install -----------------------------------------------------------------------------------------------

def _check_upgrade(target, force):
    installed = package_data.archive_version(target) if os.path.exists(target) else None
    from .. import __version__

    if installed and not force and package_data.version_key(installed) > package_data.version_key(__version__):
        raise UsageError(f"{target} is agent-sync {installed}, newer than this {__version__}; "
                         "use --force to downgrade")
    return installed


def install(root, settings="shared", hooks=True, force=False, say=lambda _line: None):
    """Install into `root`. Raises before writing anything, or GateBroken after writing if hooks cannot run."""
    refuse_links_out(root, touched(root))
    skill = _path(root, *SKILL_DIR)
    target = os.path.join(skill, PYZ)
    chosen = _path(root, ".claude", SETTINGS[settings])
    if hooks:
        read_settings(chosen)  # refuse an unreadable settings file before touching anything
    installed = _check_upgrade(target, force)
    archive, restamped = packer.for_interpreter(package_data.archive_bytes(), (command_line.PYTHON,), cwd=root)
    files = {name: package_data.data(f"skill/{name}") for name in SKILL_FILES}
    from .. import __version__

    if _put(target, archive, 0o755):
        verb = "installed" if not installed else "updated" if installed == __version__ else f"replaced {installed} with"
        say(f"{verb} {_rel(root, target)} (agent-sync {__version__})")
        if restamped:
            say(f"compiled its bytecode with `{command_line.PYTHON}` here, the Python that runs the hooks")
    for name, payload in files.items():
        if _put(os.path.join(skill, name), payload, SKILL_FILES[name]):
            say(f"wrote {_rel(root, os.path.join(skill, name))}")
    os.makedirs(_path(root, *STATE_DIR), exist_ok=True)
    if add_ignore(root):
        say(f"added {IGNORE_LINE} to .gitignore")
    if hooks:
        _merge_hooks(root, chosen, say)
    _verify(root, chosen if hooks else None, say)
    if not hooks:
        say("Claude Code hooks NOT installed: Claude Code's edits to locked files will not be blocked")


def _verify(root, settings_path, say):
    """Run what was written; one loud error naming every part that does not work."""
    problems = []
    if settings_path:
        try:
            _verify_gate(root, settings_path, say)
        except probe.GateBroken as exc:
            problems.append(f"the lock gate is OFF, edits to locked files will NOT be blocked: {exc}")
    launcher = os.path.join(root, *SKILL_DIR, "scripts", "agent-sync")
    try:
        say(f"skill launcher works: {probe.check_launcher(launcher, root)}")
    except probe.GateBroken as exc:
        problems.append(str(exc))
    if problems:
        raise probe.GateBroken("INSTALLED BUT NOT WORKING: " + "; ".join(problems) +
                               ". Fix this, then run install again.")


def _merge_hooks(root, chosen, say):
    backups = _path(root, *BACKUPS)
    existed = os.path.exists(chosen)
    if merge_file(chosen, claude_hooks(), backup_dir=backups):
        kept = f" (previous version in {_rel(root, backups)}/)" if existed else ""
        say(f"merged agent-sync hooks into {_rel(root, chosen)}{kept}")
    else:
        say(f"{_rel(root, chosen)} already has these hooks; unchanged")
    for other in SETTINGS.values():
        path = _path(root, ".claude", other)
        if path == chosen:
            continue
        try:
            _, value = read_settings(path)
        except settings_merge.InvalidSettings:
            continue
        if settings_merge.has_ours(value, command_line.is_ours):
            say(f"note: {_rel(root, path)} also has agent-sync hooks (left as they are; uninstall removes both)")


def _verify_gate(root, chosen, say):
    _, value = read_settings(chosen)
    commands = [h["command"] for h in settings_merge.handlers(value, "PreToolUse")
                if command_line.is_ours(h.get("command"))]
    if not commands:
        raise probe.GateBroken(f"no agent-sync PreToolUse hook in {chosen} after the merge")
    found = probe.check_python(commands[0], root)
    warning = probe.check_hook(commands[0], root)
    if warning:
        say(f"warning: the PreToolUse hook runs but reported: {warning}")
    say(f"lock gate works: the PreToolUse hook ran with Python {found}")


def uninstall(root, purge=False, say=lambda _line: None):
    """Remove our hook entries, the skill files and the .gitignore line; with purge, the state too."""
    refuse_links_out(root, touched(root))
    settings = [_path(root, ".claude", name) for name in SETTINGS.values()]
    for path in settings:  # refuse unreadable settings before touching anything
        read_settings(path)
    backups = _path(root, *BACKUPS) if not purge else None
    for path in settings:
        if unmerge_file(path, backup_dir=backups):
            say(f"removed agent-sync hooks from {_rel(root, path)}")
    _remove_skill(root, say)
    if remove_ignore(root):
        say(f"removed {IGNORE_LINE} from .gitignore")
    state = _path(root, *STATE_DIR)
    if purge and os.path.isdir(state):
        shutil.rmtree(state)
        say(f"deleted {_rel(root, state)}/ (--purge)")
    elif os.path.isdir(state):
        say(f"kept {_rel(root, state)}/ (shared state, settings backups); it is no longer git-ignored. "
            "Delete it, or run uninstall --purge")
    _prune_empty(root, STATE_DIR[:1] + ("skills",))
    _prune_empty(root, STATE_DIR[:1])


def _remove_skill(root, say):
    skill = _path(root, *SKILL_DIR)
    if not os.path.isdir(skill):
        return
    for name in [PYZ] + list(SKILL_FILES):
        path = os.path.join(skill, name)
        if os.path.isfile(path):
            os.remove(path)
    for folder in (os.path.join(skill, "scripts"), skill):
        _prune_empty(folder)
    if os.path.isdir(skill):
        say(f"kept {_rel(root, skill)}/: it holds files agent-sync did not write")
    else:
        say(f"removed {_rel(root, skill)}/")


def _prune_empty(root, parts=()):
    path = _path(root, *parts)
    try:
        os.rmdir(path)
    except OSError:
        pass
