"""The git commit guard: git hooks that keep commits off files other agents have locked.

`guard install` writes a POSIX sh `pre-commit` hook into git's hooks directory
(`core.hooksPath` included). A hook already there is kept as
`pre-commit.agent-sync-prev` and runs first; its failure fails the commit.
`--trailers` adds a `prepare-commit-msg` hook in the same way. `guard uninstall`
puts the previous hooks back byte for byte. The installed hooks call back into
this module: `guard check` and `guard trailers MSG_FILE [SOURCE]`.

The hooks run the repository's installed archive
(.claude/skills/agent-sync/agent-sync.pyz), falling back to the archive that
ran `guard install`. With neither present they allow the commit and say so.
"""

import os
import shlex
import subprocess

from ..core import cachestamp, repo, sanitize
from ..core.errors import CONFLICT, OK, Busy, Conflict, StorageError, UsageError

MARKER = "# agent-sync guard hook"
PREV_SUFFIX = ".agent-sync-prev"
PRE_COMMIT, PREPARE_MSG = "pre-commit", "prepare-commit-msg"
INSTALLED_PYZ = os.path.join(".claude", "skills", "agent-sync", "agent-sync.pyz")
AGENT_TRAILER, TASK_TRAILER = "Agent-Sync-Agent", "Agent-Sync-Task"
MAX_LISTED = 50  # refused files named one by one; the rest are counted
REFUSAL_ADVICE = ("Ask the owner to release them (agent-sync send --to <owner> --message ...), unstage them "
                  "(git restore --staged <file>), or bypass this check once with: git commit --no-verify")

_HOOK = """#!/bin/sh
{marker} ({name}): {purpose}
# Bypass it once with: git commit --no-verify
# Remove it with: agent-sync guard uninstall (restores the hook it replaced)
prev="$0{prev_suffix}"
if [ -x "$prev" ]; then
    "$prev" "$@" || exit $?
fi
if command -v python3 >/dev/null 2>&1; then py=python3; else py=python; fi
for pyz in {candidates}; do
    if [ -f "$pyz" ]; then
        exec "$py" -I -S "$pyz" guard {action} "$@"
    fi
done
echo "agent-sync guard: agent-sync.pyz not found; {name} check skipped (re-run agent-sync guard install)" >&2
exit 0
"""
_PURPOSES = {
    PRE_COMMIT: ("refuses commits that stage files another active agent has locked.", "check"),
    PREPARE_MSG: ("adds Agent-Sync-Agent and Agent-Sync-Task trailers.", "trailers"),
}


# ---------------------------------------------------------------------------
# git


def _git(cwd, *args):
    """stdout of a git command run in cwd; UsageError when git fails."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed (or not on PATH)") from None
    if proc.returncode != 0:
        detail = sanitize.one_line(proc.stderr.decode("utf-8", "replace"), 300)
        raise UsageError(f"git {args[0]} failed in {cwd}: {detail}")
    return proc.stdout


def hooks_dir(cwd):
    """git's hooks directory for cwd's repository, honouring core.hooksPath."""
    rel = _git(cwd, "rev-parse", "--git-path", "hooks").decode("utf-8", "surrogateescape").strip()
    return os.path.normpath(os.path.join(cwd, rel))


def staged_paths(cwd):
    """Paths the commit would change (deletions and both sides of renames), from the worktree root."""
    out = _git(cwd, "diff", "--cached", "--name-only", "--no-renames", "-z")
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


# ---------------------------------------------------------------------------
# install / uninstall


def running_pyz():
    """The archive this code runs from, or None when running from a source tree."""
    from ..install.package_data import running_archive

    return running_archive()


def pyz_candidates(root, fallback):
    """Archives a hook tries, in order: the repository's installed copy, then `fallback`."""
    found = [os.path.join(root, INSTALLED_PYZ)]
    if fallback and os.path.abspath(fallback) not in found:
        found.append(os.path.abspath(fallback))
    return found


def hook_script(name, candidates):
    purpose, action = _PURPOSES[name]
    return _HOOK.format(marker=MARKER, name=name, purpose=purpose, prev_suffix=PREV_SUFFIX,
                        candidates=" ".join(shlex.quote(c) for c in candidates), action=action)


def is_ours(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return MARKER in handle.read(4096)
    except OSError:
        return False


def install(cwd, trailers=False, pyz=None):
    """Install the pre-commit hook (and, with trailers, prepare-commit-msg). Returns what was done."""
    root = repo.find_root(cwd)
    candidates = pyz_candidates(root, pyz)
    if not any(os.path.isfile(c) for c in candidates):
        raise UsageError(f"no agent-sync.pyz to run from the hook: install agent-sync into {root} first, "
                         "or run guard install from the .pyz")
    directory = hooks_dir(cwd)
    os.makedirs(directory, exist_ok=True)
    names = (PRE_COMMIT, PREPARE_MSG) if trailers else (PRE_COMMIT,)
    return [_install_one(directory, name, hook_script(name, candidates)) for name in names]


def _install_one(directory, name, script):
    path = os.path.join(directory, name)
    prev = path + PREV_SUFFIX
    note = ""
    if os.path.lexists(path) and not is_ours(path):
        if os.path.lexists(prev):
            raise Conflict(f"{path} is not agent-sync's and {prev} already exists; move one of them away first")
        os.replace(path, prev)
        note = f" (runs the previous hook, kept as {os.path.basename(prev)}, first)"
    elif os.path.lexists(prev):
        note = f" (runs {os.path.basename(prev)} first)"
    _write_executable(path, script)
    return f"installed {name} hook: {path}{note}"


def _write_executable(path, text):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def uninstall(cwd):
    """Remove the guard's hooks, putting back the hooks they replaced. Returns what was done."""
    directory = hooks_dir(cwd)
    done = []
    for name in (PRE_COMMIT, PREPARE_MSG):
        path = os.path.join(directory, name)
        prev = path + PREV_SUFFIX
        if not is_ours(path):
            if os.path.lexists(prev):
                done.append(f"left {path} alone: it is not agent-sync's ({os.path.basename(prev)} kept too)")
            continue
        if os.path.lexists(prev):
            os.replace(prev, path)
            done.append(f"restored the previous {name} hook: {path}")
        else:
            os.remove(path)
            done.append(f"removed {name} hook: {path}")
    return done or [f"no agent-sync guard hooks in {directory}"]


# ---------------------------------------------------------------------------
# the hooks' side


def _context(root, cwd):
    from ..core.context import Context

    return Context(root=root, tree=repo.find_tree(cwd), cwd=cwd)


def _in_use(root):
    """Is agent-sync in use here: a local database, or an etcd backend configured?"""
    return os.path.exists(repo.db_path(root)) or cachestamp.configured(root)


def check(cwd):
    """(exit code, report) for the staged changes: CONFLICT when another agent's lock covers one."""
    root = repo.find_root(cwd)
    if not _in_use(root):
        return OK, ""
    paths = staged_paths(cwd)
    if not paths:
        return OK, ""
    from ..core import lockspec

    from ..core.backend import engine_errors

    with engine_errors():  # etcd: the check reads the engine, never the hooks' cache
        ctx = _context(root, cwd)
    try:
        specs = [lockspec.Spec(ctx.key(p), p, lockspec.FILE) for p in paths]
        with engine_errors():
            found = ctx.store.blockers(specs)
        if not found:
            return OK, ""
        return CONFLICT, _refusal(ctx, found)
    finally:
        ctx.close()


def _refusal(ctx, found):
    from ..core.durations import format_duration

    lines = []
    for spec, row in found[:MAX_LISTED]:
        via = "" if spec.key == row["key"] else f" (lock {sanitize.one_line(row['path'], 200)})"
        shared = " shared" if row["mode"] == "shared" else ""
        why = sanitize.one_line(row["reason"], 200) or "no reason given"
        if row["auto_lease"]:
            why = "automatic lease: they edited it and have not finished"
        lines.append(f"  {sanitize.one_line(spec.path, 300)}: locked{shared} by "
                     f"{sanitize.one_line(row['owner_name'], 64)} [{row['owner']}]{via} - {why} - "
                     f"expires in {format_duration(row['expires_at'] - ctx.now)}")
    if len(found) > MAX_LISTED:
        lines.append(f"  ... and {len(found) - MAX_LISTED} more")
    files = len({spec.key for spec, _row in found})
    return "\n".join(
        [f"agent-sync guard: commit refused for {ctx.me.id}: {files} staged file(s) are locked by other agents:"]
        + lines
        + [REFUSAL_ADVICE]
    )


def trailer_values(cwd):
    """[(key, value)] naming the committing agent and its task; [] when agent-sync is not in use here."""
    root = repo.find_root(cwd)
    if not _in_use(root):
        return []

    ctx = _context(root, cwd)
    try:
        me = ctx.store.agent(ctx.me.id)
        name = me["name"] if me is not None else ctx.me.id
        who = ctx.me.id if name == ctx.me.id else f"{sanitize.one_line(name, 64)} [{ctx.me.id}]"
        values = [(AGENT_TRAILER, who)]
        task_id = me["current_task"] if me is not None else None
        if task_id is None:
            owned = ctx.store.owned_tasks()
            task_id = owned[-1]["id"] if owned else None
        if task_id is not None:
            task = ctx.store.task(task_id)
            values.append((TASK_TRAILER, f"#{task['id']} {sanitize.one_line(task['title'], 200)}"))
        return values
    finally:
        ctx.close()


def _has_content(path):
    """Does the message say anything yet? An empty one must still abort the commit."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return any(line.strip() and not line.startswith("#") for line in handle)


def add_trailers(cwd, message_file):
    """Append (or replace) the trailers in message_file. Returns the trailers written."""
    if not _has_content(message_file):
        return []
    values = trailer_values(cwd)
    if values:
        args = ["interpret-trailers", "--in-place", "--if-exists", "replace"]
        for key, value in values:
            args += ["--trailer", f"{key}: {value}"]
        _git(cwd, *args, message_file)
    return values


def _check_failing_open(cwd):
    """check(), except that a busy or unusable database lets the commit through, with a note."""
    try:
        return check(cwd)
    except (Busy, StorageError) as exc:
        return OK, f"agent-sync guard: {exc} (commit allowed; nothing was checked)"


# ---------------------------------------------------------------------------
# the command


def cmd_guard(_ctx, args):
    """`agent-sync guard install|uninstall` for people; `check` and `trailers` for the hooks."""
    import sys

    cwd = os.getcwd()
    if args.action == "install":
        report = install(cwd, trailers=args.trailers, pyz=running_pyz())
        report.append("bypass once with: git commit --no-verify; remove with: agent-sync guard uninstall")
    elif args.action == "uninstall":
        report = uninstall(cwd)
    elif args.action == "check":
        code, text = _check_failing_open(cwd)
        if text:
            print(text, file=sys.stderr)
        return code
    else:
        if not args.hook_args:
            raise UsageError("guard trailers needs the commit message file (git passes it)")
        add_trailers(cwd, args.hook_args[0])
        return OK
    print("\n".join(report))
    return OK


ACTIONS = ("install", "uninstall", "check", "trailers")
