"""The Claude Code plugin in dist/plugin/: the same archive, skill and hooks, in a plugin's layout.

    .claude-plugin/plugin.json   manifest
    hooks/hooks.json             the hook template, calling "${CLAUDE_PLUGIN_ROOT}/bin/agent-sync.pyz"
    skills/agent-sync/SKILL.md   the skill, pointed at the plugin's launcher
    bin/agent-sync               the sh launcher (Claude Code puts bin/ on the Bash tool's PATH)
    bin/agent-sync.pyz           the archive

State never lives here: hooks find each project's .claude/coordination/ from
the working directory. build.py writes this tree and checks it with --check.
"""

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PLUGIN_DIR = ROOT / "dist" / "plugin"
HOMEPAGE = "https://github.com/agent-sync/agent-sync"
SKILL_LAUNCHER = "${CLAUDE_SKILL_DIR}/scripts/agent-sync"
PLUGIN_LAUNCHER = "${CLAUDE_SKILL_DIR}/../../bin/agent-sync"  # skills/agent-sync/ -> plugin root
DESCRIPTION = ("Coordinate several AI coding-agent sessions in one repository: "
               "file locks enforced by hooks, a shared task board, and messages between agents.")


def _json(value):
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def manifest(version):
    return {
        "name": "agent-sync",
        "version": version,
        "description": DESCRIPTION,
        "author": {"name": "agent-sync contributors"},
        "homepage": HOMEPAGE,
        "repository": HOMEPAGE,
        "license": "MIT",
        "keywords": ["coordination", "multi-agent", "locks", "tasks", "hooks"],
    }


def hooks_document():
    from agent_sync.install import command_line as hookcommand, settings_merge

    template = json.loads((ROOT / "hooks-templates" / "claude-settings.json").read_text(encoding="utf-8"))
    hooks = settings_merge.render(template, hookcommand.prefix(pyz_ref=hookcommand.PLUGIN_PYZ))
    return {"description": "agent-sync: lock gate, message delivery and presence for this project", "hooks": hooks}


def skill_text():
    text = (ROOT / "skill" / "SKILL.md").read_text(encoding="utf-8")
    if SKILL_LAUNCHER not in text:
        raise SystemExit(f"skill/SKILL.md no longer mentions {SKILL_LAUNCHER}; update build_plugin.py")
    return text.replace(SKILL_LAUNCHER, PLUGIN_LAUNCHER)


def files(pyz):
    """{path relative to the plugin root: (bytes, mode)}."""
    from agent_sync import __version__

    return {
        ".claude-plugin/plugin.json": (_json(manifest(__version__)), 0o644),
        "hooks/hooks.json": (_json(hooks_document()), 0o644),
        "skills/agent-sync/SKILL.md": (skill_text().encode("utf-8"), 0o644),
        "bin/agent-sync": ((ROOT / "skill" / "scripts" / "agent-sync").read_bytes(), 0o755),
        "bin/agent-sync.pyz": (pyz, 0o644),
    }


def _existing(base):
    if not base.is_dir():
        return set()
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file() or p.is_symlink()}


def differences(base, wanted):
    """Paths under `base` that are missing, different, or not part of the plugin."""
    found = []
    for rel, (data, mode) in wanted.items():
        path = base / rel
        if not path.is_file() or path.read_bytes() != data or path.stat().st_mode & 0o111 != mode & 0o111:
            found.append(rel)
    found.extend(sorted(_existing(base) - set(wanted)))
    return found


def write_tree(base, wanted):
    """Make `base` hold exactly `wanted`; unchanged files are not rewritten."""
    for rel in differences(base, wanted):
        path = base / rel
        if rel not in wanted:
            path.unlink(missing_ok=True)
            continue
        data, mode = wanted[rel]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.chmod(mode)
        os.replace(tmp, path)
    for folder in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()  # only empty folders go
        except OSError:
            pass
