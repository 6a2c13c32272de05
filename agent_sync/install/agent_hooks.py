"""Hook configuration for agents other than Claude Code, and the project's `.mcp.json` entry.

Each agent gets one project file, merged idempotently under the same rules
as Claude Code's settings: our entries (found by `command_line.is_ours`,
whatever path or version wrote them) are replaced in place, everything else
keeps its value and order, and an unreadable file is refused unchanged.

Hook commands find the archive at run time. Of these agents only Gemini CLI
documents a project-directory variable for hooks, so the others ask git for the top of the work
tree: `"$(git rev-parse --show-toplevel)/.claude/skills/agent-sync/agent-sync.pyz"`.
That works from any subdirectory and any linked worktree, in a POSIX shell.
"""

import os
import subprocess

from . import command_line, settings_merge
from . import project as install_files

SKILL_PYZ = ".claude/skills/agent-sync/agent-sync.pyz"
GIT_TOP_PYZ = f'"$(git rev-parse --show-toplevel)/{SKILL_PYZ}"'
GEMINI_PYZ = f'"$GEMINI_PROJECT_DIR/{SKILL_PYZ}"'
MCP_SERVER = "agent-sync"
MCP_ARGS = ["-I", "-S", "${CLAUDE_PROJECT_DIR:-.}/" + SKILL_PYZ, "mcp"]


class Agent:
    """Where an agent keeps project hooks, and what we put there."""

    def __init__(self, path, events, pyz_ref, nested, handler=None, group=None, top=None, overrides=None):
        self.path = path              # repo-relative, '/'-separated
        self.events = events          # ((event, matcher or None), ...)
        self.pyz_ref = pyz_ref
        self.nested = nested          # Claude's event -> [{matcher, hooks: [handler]}] shape
        self.handler = handler or {}  # extra keys of one handler
        self.group = group            # key holding the command in a flat entry
        self.top = top or {}          # keys the file must have, e.g. {"version": 1}
        self.overrides = overrides or {}  # event -> handler keys that differ for that event

    def command(self, name, event):
        return f"{command_line.prefix(pyz_ref=self.pyz_ref, agent=name)} {event}"

    def hooks(self, name):
        """{event: [entry]} for this agent's file."""
        out = {}
        for event, matcher in self.events:
            if self.nested:
                handler = dict(type="command", command=self.command(name, event), **self.handler)
                handler.update(self.overrides.get(event, {}))
                entry = {"hooks": [handler]}
                if matcher:
                    entry = {"matcher": matcher, **entry}
            else:
                entry = {self.group: self.command(name, event), **self.handler}
            out[event] = [entry]
        return out


GEMINI_WRITES = "write_file|replace|run_shell_command"
AGENTS = {
    "codex": Agent(".codex/hooks.json", (
        ("SessionStart", None), ("UserPromptSubmit", None), ("PreToolUse", None),
        ("PostToolUse", None), ("Stop", None), ("SubagentStart", None), ("SessionEnd", None)),
        GIT_TOP_PYZ, nested=True, handler={"timeout": 10},
        overrides={"SessionEnd": {"timeout": 3}}),  # Codex cuts SessionEnd hooks to 3 s, with a warning per run
    "gemini": Agent(".gemini/settings.json", (
        ("SessionStart", None), ("BeforeAgent", None), ("BeforeTool", GEMINI_WRITES), ("AfterTool", None),
        ("AfterAgent", None), ("SessionEnd", None)), GEMINI_PYZ, nested=True,
        handler={"name": "agent-sync", "timeout": 10000}),
    "cursor": Agent(".cursor/hooks.json", (
        ("sessionStart", None), ("preToolUse", None), ("beforeShellExecution", None), ("afterFileEdit", None),
        ("stop", None), ("sessionEnd", None)), GIT_TOP_PYZ, nested=False, group="command", top={"version": 1}),
    "windsurf": Agent(".windsurf/hooks.json", (
        ("pre_write_code", None), ("pre_run_command", None), ("post_write_code", None)), GIT_TOP_PYZ,
        nested=False, group="command", handler={"show_output": False}),
    "copilot": Agent(".github/hooks/agent-sync.json", (
        ("sessionStart", None), ("userPromptSubmitted", None), ("preToolUse", None), ("postToolUse", None),
        ("agentStop", None), ("subagentStart", None), ("sessionEnd", None)), GIT_TOP_PYZ, nested=False, group="bash",
        handler={"type": "command", "timeoutSec": 10}, top={"version": 1}),
}
ALL = ("claude", *AGENTS)


def expand(names):
    """The agents named (`all` means every one), in a stable order, without repeats."""
    from ..core.errors import UsageError

    wanted = []
    for name in names or ():
        for one in ALL if name == "all" else (name,):
            if one not in ALL:
                raise UsageError(f"unknown agent {one!r}; expected one of {', '.join(ALL)} or all")
            if one not in wanted:
                wanted.append(one)
    return wanted


def path_of(root, name):
    return os.path.join(root, *AGENTS[name].path.split("/"))


def install(root, name, backup_dir=None):
    """Merge `name`'s hooks into its project file. Returns (path, 'created' | 'updated' | 'unchanged')."""
    agent = AGENTS[name]
    path = path_of(root, name)
    return path, _rewrite(path, lambda doc: _merged(doc, agent, name), backup_dir, f"{name}-")


def uninstall(root, name, backup_dir=None):
    """Take our entries out of `name`'s project file (removed when nothing else is left). True if changed."""
    path = path_of(root, name)
    text, doc = install_files.read_settings(path)
    if text is None:
        return False
    if AGENTS[name].nested:
        result = settings_merge.unmerge(doc, command_line.is_ours)
    else:
        result = _merge_flat(doc, {})
        if not result["hooks"] and "hooks" not in doc:
            del result["hooks"]
    if result == doc:
        return False
    _backup(path, text, backup_dir, f"{name}-")
    if set(result) - {"hooks", *AGENTS[name].top} or result.get("hooks"):
        install_files.write_atomic(path, _text(result, text).encode("utf-8"))
    else:
        os.remove(path)
    return True


def install_mcp(root, backup_dir=None):
    """Add (or refresh) the agent-sync server in the project's .mcp.json, for Claude Code."""
    path = os.path.join(root, ".mcp.json")

    def change(doc):
        servers = doc.get("mcpServers")
        servers = dict(servers) if isinstance(servers, dict) else {}
        servers[MCP_SERVER] = {"command": "python3", "args": list(MCP_ARGS)}
        return dict(doc, mcpServers=servers)

    return path, _rewrite(path, change, backup_dir, "")


def uninstall_mcp(root, backup_dir=None):
    """Drop our server from .mcp.json (the file goes when nothing else is left). True if changed."""
    path = os.path.join(root, ".mcp.json")
    text, doc = install_files.read_settings(path)
    servers = doc.get("mcpServers")
    if not isinstance(servers, dict) or MCP_SERVER not in servers:
        return False
    _backup(path, text, backup_dir, "")
    servers = {k: v for k, v in servers.items() if k != MCP_SERVER}
    result = dict(doc, mcpServers=servers) if servers else {k: v for k, v in doc.items() if k != "mcpServers"}
    if result:
        install_files.write_atomic(path, _text(result, text).encode("utf-8"))
    else:
        os.remove(path)
    return True


def verify(root, name):
    """Run the agent's pre-tool command the way the agent would, on an empty payload. GateBroken if it fails."""
    from ..hooks import adapters, model
    from .probe import GateBroken

    kinds = adapters.get(name).EVENTS
    event = next(event for event, _ in AGENTS[name].events if kinds[event] == model.PRE_TOOL)
    command = AGENTS[name].command(name, event)
    env = {k: v for k, v in os.environ.items() if k != "AGENT_SYNC_ID"}
    env["GEMINI_PROJECT_DIR"] = root
    try:
        proc = subprocess.run(["sh", "-c", command], input=b"{}", cwd=root, env=env, capture_output=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GateBroken(f"the {name} hook command could not run: {exc}") from None
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or "agent-sync hook:" in err:
        last = err.splitlines()[-1] if err else "no output"
        raise GateBroken(f"the {name} {event} hook exited {proc.returncode}: {last}")


def preflight(root, names, mcp=False):
    """Read every file install would change, so an unreadable one stops it before anything is written."""
    from . import instructions

    for name in names:
        if name in AGENTS:
            install_files.read_settings(path_of(root, name))
            instructions.preflight(root, name)
    if mcp:
        install_files.read_settings(os.path.join(root, ".mcp.json"))


def uninstall_all(root, say=lambda _line: None, backup_dir=None):
    """Take our entries out of every agent's file and .mcp.json; unreadable files are reported and left alone."""
    for name, agent in AGENTS.items():
        try:
            if uninstall(root, name, backup_dir):
                say(f"removed agent-sync hooks from {agent.path}")
        except settings_merge.InvalidSettings as exc:
            say(f"left {agent.path} alone: {exc}")
    from . import instructions

    for name, (filename, _text) in instructions.FILES.items():
        try:
            if instructions.uninstall(root, name):
                say(f"removed the agent-sync block from {filename}")
        except settings_merge.InvalidSettings as exc:
            say(f"left {filename} alone: {exc}")
    try:
        if uninstall_mcp(root, backup_dir):
            say(f"removed the {MCP_SERVER!r} server from .mcp.json")
    except settings_merge.InvalidSettings as exc:
        say(f"left .mcp.json alone: {exc}")


def install_agents(root, names, mcp=False, say=lambda _line: None, backup_dir=None):
    """Write, then test, the configuration of every agent in `names` but Claude Code (install.py's job)."""
    for name in names:
        if name == "claude":
            continue
        path, status = install(root, name, backup_dir)
        rel = os.path.relpath(path, root)
        say(f"{rel} already has the agent-sync hooks; unchanged" if status == "unchanged"
            else f"{status} {rel} ({name} hooks)")
        verify(root, name)
        say(f"{name} lock gate works: its pre-tool hook ran")
        _instruct(root, name, say)
        _warn_if_untrusted(root, name, say)
    if mcp:
        path, status = install_mcp(root, backup_dir)
        say(f".mcp.json {status}: server {MCP_SERVER!r} runs `python3 {' '.join(MCP_ARGS)}`")


def _instruct(root, name, say):
    """The identity block in the agent's instructions file, for agents whose shell carries no session id."""
    from . import instructions

    if name in instructions.FILES:
        status = instructions.install(root, name)
        filename = instructions.FILES[name][0]
        say(f"{filename} already tells {name} how to run agent-sync as itself" if status == "unchanged"
            else f"{status} {filename}: tells {name} how to run agent-sync as itself")


def _warn_if_untrusted(root, name, say):
    from . import trust

    verdict = trust.check(name, root)
    if verdict:
        say(f"{name} hooks NOT ENFORCED YET: {verdict}")


def _merged(doc, agent, name):
    ours = agent.hooks(name)
    if agent.nested:
        result = settings_merge.merge(doc, ours, command_line.is_ours)
    else:
        result = _merge_flat(doc, ours)
    for key, value in agent.top.items():
        if key not in result:
            result = {key: value, **result}
    return result


def _is_ours_flat(entry):
    return isinstance(entry, dict) and any(command_line.is_ours(entry.get(k)) for k in ("command", "bash", "powershell"))


def _merge_flat(doc, ours):
    return settings_merge.merge(doc, ours, _is_ours_flat, strip=settings_merge.strip_flat)


def _text(doc, before):
    return settings_merge.dumps(doc, settings_merge.detect_indent(before) if before else 2)


def _backup(path, text, backup_dir, prefix):
    if text is not None and backup_dir:
        target = os.path.join(backup_dir, prefix + os.path.basename(path) + ".bak")
        install_files.write_atomic(target, text.encode("utf-8"))


def _rewrite(path, change, backup_dir, prefix):
    """Apply `change` to the JSON object in `path`; write atomically only when the text changes."""
    before, doc = install_files.read_settings(path)
    after = _text(change(doc), before)
    if after == before:
        return "unchanged"
    _backup(path, before, backup_dir, prefix)
    install_files.write_atomic(path, after.encode("utf-8"))
    return "created" if before is None else "updated"
