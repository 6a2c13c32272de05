"""Agents that skip an untrusted project's hooks: doctor and install say so, and GEMINI.md's identity block.

Codex keeps project and hook trust in $CODEX_HOME/config.toml, Gemini keeps
folder trust in ~/.gemini/trustedFolders.json; every test writes those files
into the test's own HOME, as the agents would. The real CLIs act on the same
files in tests/agents/ (test_codex.py, test_gemini.py).
"""

import json
import subprocess

import pytest

from agent_sync.install import trust


def codex_config(repo, text):
    path = repo.home / ".codex" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def trusted_project(repo, root=None):
    return f'[projects.{json.dumps(str(root or repo.path.resolve()))}]\ntrust_level = "trusted"\n'


def reviewed_hooks(repo):
    hooks = repo.path.resolve() / ".codex" / "hooks.json"
    return "".join(f'[hooks.state.{json.dumps(key)}]\ntrusted_hash = "{digest}"\n\n'
                   for key, digest in trust.codex_hook_hashes(str(hooks)))


@pytest.fixture
def codex(repo):
    result = repo.ok("install", "--agent", "codex")
    assert "codex hooks NOT ENFORCED YET" in result.out and "has not trusted it" in result.out, result
    return repo


def test_codex_untrusted_project_fails_doctor_with_the_fix(codex):
    doctor = codex.run("doctor")
    assert doctor.code == 8, doctor
    assert "codex hooks installed but NOT ENFORCED" in doctor.out and 'trust_level = "trusted"' in doctor.out, doctor


def test_codex_trusted_project_with_unreviewed_hooks_fails_doctor(codex):
    codex_config(codex, trusted_project(codex))
    doctor = codex.run("doctor")
    assert doctor.code == 8 and "/hooks" in doctor.out and "has not trusted 7 of agent-sync's hooks" in doctor.out, \
        doctor


def test_codex_trusted_project_and_hooks_pass_doctor(codex):
    codex_config(codex, trusted_project(codex) + "\n" + reviewed_hooks(codex))
    doctor = codex.run("doctor")
    assert doctor.code == 0 and "the codex hooks in .codex/hooks.json run" in doctor.out, doctor
    again = codex.ok("install", "--agent", "codex")
    assert "NOT ENFORCED" not in again.out, again


def test_codex_hooks_changed_since_review_fail_doctor(codex):
    codex_config(codex, trusted_project(codex) + "\n" + reviewed_hooks(codex))
    hooks = codex.path / ".codex" / "hooks.json"
    doc = json.loads(hooks.read_text())
    doc["hooks"]["PreToolUse"][0]["hooks"][0]["timeout"] = 11
    hooks.write_text(json.dumps(doc, indent=2))
    doctor = codex.run("doctor")
    assert doctor.code == 8 and "has not trusted 1 of agent-sync's hooks" in doctor.out, doctor


@pytest.mark.parametrize("setting,expected", [
    ("[features]\nhooks = false\n", "hooks are turned off"),
    ('[projects."{root}"]\ntrust_level = "untrusted"\n', "marks it untrusted"),
])
def test_codex_hooks_off_or_project_untrusted(codex, setting, expected):
    codex_config(codex, setting.replace("{root}", str(codex.path.resolve())) + "\n" + reviewed_hooks(codex))
    doctor = codex.run("doctor")
    assert doctor.code == 8 and expected in doctor.out, doctor


def test_codex_trust_of_the_main_checkout_covers_a_linked_worktree(codex, tmp_path):
    subprocess.run(["git", "-C", str(codex.path), "commit", "-q", "--allow-empty", "-m", "x"], check=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(codex.home)})
    linked = tmp_path / "linked"
    subprocess.run(["git", "-C", str(codex.path), "worktree", "add", "-q", str(linked)], check=True)
    assert trust.check("codex", str(linked), {"HOME": str(codex.home)}).problem.startswith("Codex skips")
    codex_config(codex, trusted_project(codex))
    verdict = trust.check("codex", str(linked), {"HOME": str(codex.home)})
    assert verdict is None or "/hooks" in verdict.fix, verdict  # the project is trusted; hooks are per file


def test_the_310_toml_reader_reads_the_trust_settings():
    """Python 3.10 has no tomllib: install/trust.py reads Codex's config with its own small reader."""
    text = ('model = "gpt-5.5"\n# a comment\n[projects."/home/dev/my project"]\ntrust_level = "trusted"\n\n'
            '[hooks.state."/home/dev/my project/.codex/hooks.json:pre_tool_use:0:0"]\n'
            'trusted_hash = "sha256:ab\\u0063"  # escaped\nenabled = false\n'
            "[features]\nhooks = true\n[model_providers.x]\nretries = 1_000\nliteral = 'C:\\path'\n"
            "list = [1, 2]\n[[arr]]\nname = 'skipped'\n")
    got = trust.read_toml_tables(text)
    assert got["projects"] == {"/home/dev/my project": {"trust_level": "trusted"}}
    assert got["hooks"]["state"] == {"/home/dev/my project/.codex/hooks.json:pre_tool_use:0:0": {
        "trusted_hash": "sha256:abc", "enabled": False}}
    assert got["features"] == {"hooks": True}
    assert got["model_providers"]["x"] == {"retries": 1000, "literal": "C:\\path"}
    assert got["model"] == "gpt-5.5"


# ---------------------------------------------------------------------------
# Gemini CLI


@pytest.fixture
def gemini(repo):
    result = repo.ok("install", "--agent", "gemini")
    assert "gemini hooks NOT ENFORCED YET" in result.out and "Trust folder" in result.out, result
    return repo


def gemini_file(repo, name, value):
    path = repo.home / ".gemini" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value))


def test_gemini_untrusted_folder_fails_doctor_with_the_fix(gemini):
    doctor = gemini.run("doctor")
    assert doctor.code == 8 and "gemini hooks installed but NOT ENFORCED" in doctor.out, doctor
    assert f'"{gemini.path.resolve()}": "TRUST_FOLDER"' in doctor.out, doctor


@pytest.mark.parametrize("rules,code", [
    ({"{root}": "TRUST_FOLDER"}, 0),
    ({"{root}/child-of-nothing": "TRUST_PARENT"}, 0),   # TRUST_PARENT trusts the rule's parent folder
    ({"{parent}": "TRUST_FOLDER"}, 0),                  # a trusted folder covers its subfolders
    ({"{parent}": "TRUST_FOLDER", "{root}": "DO_NOT_TRUST"}, 8),  # the longest rule wins
    ({"{root}": "DO_NOT_TRUST", "{parent}": "TRUST_FOLDER"}, 8),
    ({"{root}-other": "TRUST_FOLDER"}, 8),              # a name prefix is not a parent
    ("{ not json", 8),
])
def test_gemini_trusted_folders_rules(gemini, rules, code):
    root = str(gemini.path.resolve())
    text = rules if isinstance(rules, str) else json.dumps(rules)
    text = text.replace("{root}", root).replace("{parent}", str(gemini.path.resolve().parent))
    gemini_file(gemini, "trustedFolders.json", text)
    doctor = gemini.run("doctor")
    assert doctor.code == code, doctor


def test_gemini_folder_trust_off_or_forced_by_environment(gemini):
    assert gemini.run("doctor", env={"GEMINI_CLI_TRUST_WORKSPACE": "true"}).code == 0
    gemini_file(gemini, "settings.json", {"security": {"folderTrust": {"enabled": False}}})
    assert gemini.run("doctor").code == 0


# ---------------------------------------------------------------------------
# Copilot CLI: trustedFolders in ~/.copilot/config.json (the real CLI: tests/agents/test_copilot.py)


@pytest.fixture
def copilot(repo):
    result = repo.ok("install", "--agent", "copilot")
    assert "copilot hooks NOT ENFORCED YET" in result.out and "trustedFolders" in result.out, result
    return repo


def copilot_config(repo, text, home=None):
    path = (home or repo.home / ".copilot") / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_copilot_untrusted_folder_fails_doctor_with_the_fix(copilot):
    doctor = copilot.run("doctor")
    assert doctor.code == 8 and "copilot hooks installed but NOT ENFORCED" in doctor.out, doctor
    assert f'add {json.dumps(str(copilot.path.resolve()))} to "trustedFolders"' in doctor.out, doctor


@pytest.mark.parametrize("folders,code", [
    (["{root}"], 0),
    (["{root}/"], 0),
    (["{parent}"], 0),             # a trusted folder covers its subfolders, as Copilot treats it
    (["{root}/src"], 8),           # a subfolder does not cover the repository
    (["{root}-other"], 8),         # a name prefix is not a parent
    ([], 8),
])
def test_copilot_trusted_folders(copilot, folders, code):
    root, parent = str(copilot.path.resolve()), str(copilot.path.resolve().parent)
    listed = [f.replace("{root}", root).replace("{parent}", parent) for f in folders]
    # Copilot writes comment lines above the JSON
    copilot_config(copilot, "// User settings belong in settings.json.\n" + json.dumps({"trustedFolders": listed}))
    assert copilot.run("doctor").code == code


def test_copilot_trust_by_environment_and_copilot_home(copilot, tmp_path):
    assert copilot.run("doctor", env={"COPILOT_ALLOW_ALL": "true"}).code == 0
    assert copilot.run("doctor", env={"COPILOT_ALLOW_ALL": "1"}).code == 8  # only "true" trusts the folder
    elsewhere = tmp_path / "copilot-home"
    copilot_config(copilot, json.dumps({"trustedFolders": [str(copilot.path.resolve())]}), home=elsewhere)
    assert copilot.run("doctor", env={"COPILOT_HOME": elsewhere}).code == 0
    assert copilot.run("doctor").code == 8  # without COPILOT_HOME: ~/.copilot, which trusts nothing
    copilot_config(copilot, "{ not json")
    unreadable = copilot.run("doctor")
    assert unreadable.code == 8 and "cannot read" in unreadable.out, unreadable


# ---------------------------------------------------------------------------
# GEMINI.md: the command form that keeps the session's identity

BEGIN = "<!-- agent-sync: begin"
USER_TEXT = "# Project notes\n\nUse tabs.\n"


def test_install_writes_the_block_idempotently_and_uninstall_removes_only_it(repo):
    gemini_md = repo.path / "GEMINI.md"
    gemini_md.write_text(USER_TEXT)
    first = repo.ok("install", "--agent", "gemini")
    assert "updated GEMINI.md" in first.out, first
    text = gemini_md.read_text()
    assert text.startswith(USER_TEXT) and text.count(BEGIN) == 1
    assert "AGENT_SYNC_ID=<your id> python3 -I -S .claude/skills/agent-sync/agent-sync.pyz <command>" in text
    second = repo.ok("install", "--agent", "gemini")
    assert "already tells gemini" in second.out and gemini_md.read_text() == text, second
    gemini_md.write_text(text + "\nMore notes.\n")
    repo.ok("install", "--agent", "gemini")
    assert gemini_md.read_text().endswith("More notes.\n") and gemini_md.read_text().count(BEGIN) == 1
    repo.ok("uninstall")
    assert gemini_md.read_text() == USER_TEXT + "\nMore notes.\n"


def test_a_gemini_md_install_created_goes_away_on_uninstall(repo):
    repo.ok("install", "--agent", "gemini")
    assert (repo.path / "GEMINI.md").read_text().startswith(BEGIN)
    out = repo.ok("uninstall").out
    assert "removed the agent-sync block from GEMINI.md" in out and not (repo.path / "GEMINI.md").exists()


def test_a_gemini_md_that_is_not_text_is_refused_unchanged(repo):
    (repo.path / "GEMINI.md").write_bytes(b"\xff\xfe notes")
    result = repo.run("install", "--agent", "gemini")
    assert result.code == 2 and "not UTF-8" in result.err, result
    assert (repo.path / "GEMINI.md").read_bytes() == b"\xff\xfe notes"
    assert not (repo.path / ".gemini").exists()


def test_codex_gets_no_instructions_block(repo):
    """Codex's shell exports CODEX_SESSION_ID: nothing to tell the model."""
    repo.ok("install", "--agent", "codex")
    assert not (repo.path / "AGENTS.md").exists() and not (repo.path / "GEMINI.md").exists()


def test_a_block_without_its_end_line_is_refused_unchanged(repo):
    repo.ok("install", "--agent", "gemini")
    gemini_md = repo.path / "GEMINI.md"
    broken = gemini_md.read_text().replace("<!-- agent-sync: end -->", "") + "My own text.\n"
    gemini_md.write_text(broken)
    result = repo.run("install", "--agent", "gemini")
    assert result.code == 2 and "not its end line" in result.err, result
    assert gemini_md.read_text() == broken
    assert "left GEMINI.md alone" in repo.ok("uninstall").out and gemini_md.read_text() == broken
