"""`agent-sync doctor [--repair]`: report the checks of core.repair, probe the installed hook, repair.

Exit status: 0 when nothing is wrong (notes may remain, such as expired
locks waiting for gc), 2 (usage) when only a setting is bad, 8 (gate-broken)
when only the installed hooks (and settings) fail, 7 (storage) when anything
else failed.
"""

import os
import shlex

from ..core import errors, program, repo, sanitize
from ..core.repair import FAIL, NOTE, OK, diagnose, repair


def full_report(root):
    """The stored state's findings (the SQLite file, or the etcd cluster and the local cache), then the hooks'."""
    from ..core import backend

    choice = backend.resolve(root)
    if choice.is_etcd:
        from ..core.etcd import health, watcher
        from ..core.repair import Report

        report = Report()
        report.etcd = True  # type: ignore[attr-defined]
        watcher.start(root)
        health.check(report, choice, root, OK, NOTE, FAIL)
    else:
        report = diagnose(root)
    check_exposure(report, root)
    check_settings(report, root)
    others = check_agents(report, root)
    check_hooks(report, root, others)
    return report


def exposed_paths(root):
    """What hooks execute or trust, with every folder above it up to the root: (path, mode) for each one
    that group or others may write to (they could swap the archive, the settings or the state)."""
    from ..core import perms
    from ..install import agent_hooks, project

    seen, found = set(), []

    def visit(path):
        if path not in seen:
            seen.add(path)
            mode = perms.open_to_others(path)
            if mode is not None:
                found.append((path, mode))

    visit(root)
    rels = project.touched(root, agent_hooks.ALL, mcp=True) + ["/".join(project.SKILL_DIR + ("scripts", "x"))]
    for rel in rels:
        here = root
        for part in rel.split("/"):
            here = os.path.join(here, part)
            visit(here)
    state = repo.state_dir(root)
    for folder, dirs, names in os.walk(state):
        for name in dirs + names:
            visit(os.path.join(folder, name))
        if folder.count(os.sep) - state.count(os.sep) >= 1:
            dirs[:] = []  # seen/, wake/, subagents/: their own files only
    return found


def check_exposure(report, root):
    found = exposed_paths(root)
    if not found:
        report.add(OK, "exposure", "nothing the hooks run or trust is writable by group or others")
        return
    shown = ", ".join(f"{os.path.relpath(path, root)} ({mode:o})" for path, mode in found[:8])
    more = f" and {len(found) - 8} more" if len(found) > 8 else ""
    fix = "chmod go-w " + " ".join(shlex.quote(path) for path, _ in found[:8]) + (" ..." if more else "")
    report.add(FAIL, "exposure", f"writable by group or others, so they could change what the hooks run "
               f"or trust: {shown}{more}", fix)
def setting_sources(root, environ=os.environ):
    """(label, environment) pairs the hooks' environment is made of, lowest precedence first.

    Claude Code starts hooks with its own environment plus the `env` blocks of its settings:
    the user's, the project's, then the project's local file.
    """
    from ..install import project, settings_merge

    home = environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")
    sources = [("the environment", dict(environ))]
    for path in (os.path.join(home, "settings.json"), os.path.join(root, ".claude", "settings.json"),
                 os.path.join(root, ".claude", "settings.local.json")):
        try:
            _text, doc = project.read_settings(path)
        except (OSError, settings_merge.InvalidSettings):
            continue  # an unreadable settings file is reported by the hook checks
        env = doc.get("env") if isinstance(doc, dict) else None
        if isinstance(env, dict):
            sources.append((f"{path} (env)", env))
    return sources


def check_settings(report, root):
    """Flag every agent-sync setting the hooks would get that does not parse (they then use the default)."""
    from ..core import config

    bad = 0
    for label, env in setting_sources(root):
        for name, value, wanted in config.problems(env):
            bad += 1
            report.add(FAIL, "settings", f"{name}={str(value)[:60]!r} in {label} is not {wanted}; agent-sync "
                       "uses the default instead", f"correct or remove {name} there")
    if not bad:
        report.add(OK, "settings", "every agent-sync setting in the environment and the settings files parses")


def check_agents(report, root):
    """Other agents' installed hooks: run each pre-tool command, and ask whether the agent will run them at all.

    Returns how many agents have agent-sync hooks installed.
    """
    from ..install import agent_hooks, command_line, probe, project, settings_merge, trust

    installed = 0
    for name, agent in agent_hooks.AGENTS.items():
        path = agent_hooks.path_of(root, name)
        try:
            text, doc = project.read_settings(path)
        except settings_merge.InvalidSettings as exc:
            report.add(FAIL, "hooks", f"cannot read {agent.path}: {exc}",
                       f"fix the file, then {program.command('install', '--agent', name)}")
            continue
        if text is None or not any(command_line.is_ours(c) for c in _commands(doc)):
            continue
        installed += 1
        try:
            agent_hooks.verify(root, name)
        except probe.GateBroken as exc:
            report.add(FAIL, "hooks", str(exc), f"{program.command('install', '--agent', name)} (then run doctor again)")
            continue
        verdict = trust.check(name, root)
        if verdict:
            report.add(FAIL, "hooks", f"{name} hooks installed but NOT ENFORCED: {verdict.problem}", verdict.fix)
        else:
            report.add(OK, "hooks", f"the {name} hooks in {agent.path} run")
    return installed


def _commands(value):
    """Every command string in a hooks document, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("command", "bash", "powershell") and isinstance(item, str):
                yield item
            else:
                yield from _commands(item)
    elif isinstance(value, list):
        for item in value:
            yield from _commands(item)


def check_hooks(report, root, others=0):
    """Run the installed Claude Code PreToolUse command once, as Claude Code would."""
    from ..install import command_line, probe, settings_merge

    commands = []
    for name in ("settings.json", "settings.local.json"):
        path = os.path.join(root, ".claude", name)
        if not os.path.exists(path):
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                value = settings_merge.parse(handle.read(), path)
        except (OSError, UnicodeDecodeError, settings_merge.InvalidSettings) as exc:
            report.add(FAIL, "hooks", f"cannot read {path}: {exc}", f"fix the file, then {program.command('install')}")
            continue
        commands += [(path, h["command"]) for h in settings_merge.handlers(value, "PreToolUse")
                     if command_line.is_ours(h.get("command"))]
    if not commands:
        if not others:
            report.add(OK, "hooks", "no agent-sync hooks installed here (locks are advisory)")
        return
    path, written = commands[0]
    command = command_line.rebuild(written)
    if command is None:  # never run shell text from a settings file we did not write: it may be a cloned repo's
        report.add(FAIL, "hooks", f"the PreToolUse hook in {path} is not in the form agent-sync writes, so doctor "
                   f"did NOT run it: {sanitize.one_line(written, 300)}",
                   f"check what it runs; {program.command('install')} rewrites it")
        return
    try:
        warning = probe.check_hook(command, root)
    except probe.GateBroken as exc:
        report.add(FAIL, "hooks", f"the PreToolUse hook in {path} does not work: {exc}",
                   f"{program.command('install')} (then run doctor again)")
        return
    if warning:
        report.add(NOTE, "hooks", f"the PreToolUse hook runs but said: {warning[:300]}", "see the message")
    else:
        report.add(OK, "hooks", f"the PreToolUse hook in {path} runs")


def cmd_doctor(ctx, args):
    """Print every finding (and with --repair, what was done).

    Exit 8 when only the installed hooks fail, 7 for anything else wrong.
    """
    from ..core import config

    root = repo.find_root(os.getcwd())
    report = full_report(root)
    for finding in report.findings:
        print(finding)
    if args.repair and getattr(report, "etcd", False):
        print("doctor: --repair rebuilds a local SQLite file; this repository's state is in etcd "
              "(agent-sync remote status)")
    elif args.repair and (report.failed or any(f.level == NOTE for f in report.findings)):
        for line in repair(root, report, config.duration("AGENT_SYNC_BUSY_TIMEOUT")):
            print(f"done  {line}")
        report = full_report(root)
        print("after repair:")
        for finding in report.findings:
            if finding.level != OK:
                print(finding)
    if report.failed:
        failed = {f.check for f in report.findings if f.level == FAIL}
        if failed == {"settings"}:
            code = errors.USAGE
        elif failed <= {"hooks", "settings"}:
            code = errors.GATE_BROKEN
        else:
            code = errors.STORAGE
        print(f"doctor: problems found (exit {code})")
        return code
    print("doctor: nothing wrong")
    return errors.OK
