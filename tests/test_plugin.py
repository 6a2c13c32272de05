"""The Claude Code plugin that build.py writes to dist/plugin/, and the marketplace file at the repo root."""

import json
import os
import re
import subprocess

import conftest
import pytest
from conftest import ROOT, clean_env

import build
import build_plugin

PLUGIN_FIELDS = {"name": str, "version": str, "description": str, "author": dict, "homepage": str,
                 "repository": str, "license": str, "keywords": list}
HOOK_EVENTS = {"SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SubagentStart", "SessionEnd"}


@pytest.fixture
def plugin(tmp_path):
    base = tmp_path / "plugin"
    build_plugin.write_tree(base, build_plugin.files(conftest.PYZ.read_bytes()))
    return base


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_layout(plugin):
    files = sorted(p.relative_to(plugin).as_posix() for p in plugin.rglob("*") if p.is_file())
    assert files == [".claude-plugin/plugin.json", "bin/agent-sync", "bin/agent-sync.pyz", "hooks/hooks.json",
                     "skills/agent-sync/SKILL.md"]
    assert (plugin / "bin" / "agent-sync.pyz").read_bytes() == conftest.PYZ.read_bytes()
    assert os.access(plugin / "bin" / "agent-sync", os.X_OK)


def test_manifest_uses_documented_fields(plugin):
    manifest = load(plugin / ".claude-plugin" / "plugin.json")
    assert manifest["name"] == "agent-sync" and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", manifest["name"])
    for key, value in manifest.items():
        assert isinstance(value, PLUGIN_FIELDS[key]), key
    assert isinstance(manifest["author"]["name"], str)
    from agent_sync import __version__

    assert manifest["version"] == __version__


def test_hooks_follow_the_settings_schema_and_call_the_bundled_archive(plugin):
    doc = load(plugin / "hooks" / "hooks.json")
    assert set(doc) <= {"description", "hooks"} and set(doc["hooks"]) == HOOK_EVENTS
    for groups in doc["hooks"].values():
        for group in groups:
            assert set(group) <= {"matcher", "hooks"} and isinstance(group.get("matcher", ""), str)
            for handler in group["hooks"]:
                if handler["command"].endswith(" idle-wake"):  # the idle waiter runs in the background
                    assert set(handler) == {"type", "command", "timeout", "async", "asyncRewake"}
                    assert handler["async"] is True and handler["asyncRewake"] is True
                    assert handler["timeout"] == 86400
                else:
                    assert set(handler) == {"type", "command", "timeout"}
                    assert isinstance(handler["timeout"], int) and 0 < handler["timeout"] <= 60
                assert handler["type"] == "command"
                assert '"${CLAUDE_PLUGIN_ROOT}/bin/agent-sync.pyz"' in handler["command"]
                assert "CLAUDE_PROJECT_DIR" not in handler["command"]


def test_skill_points_at_the_plugin_launcher(plugin):
    text = (plugin / "skills" / "agent-sync" / "SKILL.md").read_text()
    assert "scripts/agent-sync" not in text
    assert "allowed-tools: Bash(${CLAUDE_SKILL_DIR}/../../bin/agent-sync *)" in text
    skill_dir = plugin / "skills" / "agent-sync"
    assert os.path.isfile(os.path.normpath(skill_dir / ".." / ".." / "bin" / "agent-sync"))
    source = (ROOT / "skill" / "SKILL.md").read_text()
    assert text == source.replace(build_plugin.SKILL_LAUNCHER, build_plugin.PLUGIN_LAUNCHER)


def test_marketplace_lists_the_plugin():
    market = load(ROOT / ".claude-plugin" / "marketplace.json")
    assert isinstance(market["name"], str) and isinstance(market["owner"]["name"], str)
    [entry] = market["plugins"]
    assert entry["name"] == load_manifest_name()
    assert entry["source"].startswith("./")
    assert (ROOT / entry["source"]).resolve() == build_plugin.PLUGIN_DIR


def load_manifest_name():
    return build_plugin.manifest("0")["name"]


def test_plugin_hook_blocks_a_locked_file_and_keeps_state_in_the_project(plugin, repo):
    (repo.path / "app.py").write_text("x\n")
    repo.ok("lock", "app.py", agent="alice")
    command = next(h["command"] for g in load(plugin / "hooks" / "hooks.json")["hooks"]["PreToolUse"]
                   for h in g["hooks"])
    payload = {"session_id": "bob", "cwd": str(repo.path), "tool_name": "Write",
               "tool_input": {"file_path": str(repo.path / "app.py"), "content": "y"}}
    before = sorted(p.relative_to(plugin) for p in plugin.rglob("*"))
    proc = subprocess.run(["sh", "-c", command], cwd=repo.path, input=json.dumps(payload), capture_output=True,
                          text=True, env=clean_env(repo.home, CLAUDE_PLUGIN_ROOT=plugin, CLAUDE_PROJECT_DIR=repo.path), check=False)
    decision = json.loads(proc.stdout)["hookSpecificOutput"]  # Claude Code's deny, on exit 0
    assert proc.returncode == 0 and decision["permissionDecision"] == "deny", proc
    assert "alice" in decision["permissionDecisionReason"]
    assert sorted(p.relative_to(plugin) for p in plugin.rglob("*")) == before  # no state in the plugin


def test_plugin_launcher_finds_the_archive_beside_it(plugin, repo):
    proc = subprocess.run([str(plugin / "bin" / "agent-sync"), "whoami"], cwd=repo.path, capture_output=True,
                          text=True, env=clean_env(repo.home, AGENT_SYNC_ID="carol"), check=False)
    assert proc.returncode == 0 and "carol" in proc.stdout
    assert repo.db.is_file()


def test_plugin_is_reproducible_and_checked_by_build_check(plugin, tmp_path, monkeypatch):
    pyz = conftest.PYZ.read_bytes()
    assert build_plugin.files(pyz) == build_plugin.files(pyz)
    assert build_plugin.differences(plugin, build_plugin.files(pyz)) == []
    target = tmp_path / "agent-sync.pyz"
    target.write_bytes(pyz)
    monkeypatch.setattr(build, "archive_bytes", lambda: pyz)
    monkeypatch.setattr(build, "TARGET", target)
    monkeypatch.setattr(build, "ROOT", tmp_path)
    monkeypatch.setattr(build_plugin, "PLUGIN_DIR", plugin)
    build_plugin.write_tree(plugin, build_plugin.files(target.read_bytes()))
    assert build.main(["--check"]) == 0
    (plugin / "hooks" / "hooks.json").write_text("{}")
    assert build.main(["--check"]) == 1
    (plugin / "stray.txt").write_text("x")
    assert build_plugin.differences(plugin, build_plugin.files(target.read_bytes())) == ["hooks/hooks.json",
                                                                                           "stray.txt"]
    assert build.main([]) == 0
    assert build.main(["--check"]) == 0 and not (plugin / "stray.txt").exists()

