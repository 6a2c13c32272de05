"""The pure settings merge: parse, merge, unmerge, stable output, and which entries are ours."""

import json
import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from agent_sync.install import command_line as hookcommand
from agent_sync.install import settings_merge as sm

OURS = hookcommand.is_ours
PRE = hookcommand.prefix()


def handler(command, **extra):
    return {"type": "command", "command": command, **extra}


def template():
    return {
        "PreToolUse": [{"matcher": "Edit|Write", "hooks": [handler(f"{PRE} pre-tool-use", timeout=10)]}],
        "Stop": [{"hooks": [handler(f"{PRE} stop", timeout=10)]}],
    }


def our_commands(doc):
    return [h["command"] for h in sm.handlers(doc) if OURS(h["command"])]


# ---- which entries are ours ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    f"{PRE} pre-tool-use",
    hookcommand.prefix(pyz_ref=hookcommand.PLUGIN_PYZ) + " stop",
    hookcommand.prefix(python="/usr/bin/python3.12") + " session-start",
    "agent-sync hook pre-tool-use",
    "agent-sync hook --agent codex pre-tool-use",
    '"$CLAUDE_PROJECT_DIR"/.claude/skills/agent-sync/scripts/agent-sync hook stop',
    "python3 /home/me/repo/.claude/skills/agent-sync/agent-sync.pyz hook post-tool-use",
    'python3 "$CLAUDE_PROJECT_DIR/.claude/skills/agent-sync/agent-sync.pyz" hook session-end',
    "python -m agent_sync hook user-prompt-submit",
])
def test_our_entries_are_recognised_in_every_form(command):
    assert OURS(command)


@pytest.mark.parametrize("command", [
    None, 42, "", "echo hello", "./lint.sh", "agent-sync status",
    "claude-agent-sync hook pre-tool-use",  # a different tool
    "my-agent-sync-hooks run", "python3 hooky.py agent-sync",
])
def test_other_commands_are_not_ours(command):
    assert not OURS(command)


# ---- parse ------------------------------------------------------------------------------------------------

def test_parse_accepts_empty_text_and_a_byte_order_mark():
    assert sm.parse("", "s.json") == {}
    assert sm.parse(" \n", "s.json") == {}
    assert sm.parse('\ufeff{"a": 1}', "s.json") == {"a": 1}


def test_parse_names_line_and_column_of_invalid_json():
    with pytest.raises(sm.InvalidSettings) as info:
        sm.parse('{\n  "model": "x",\n}\n', ".claude/settings.json")
    message = str(info.value)
    assert ".claude/settings.json" in message and "line 3, column 1" in message
    assert info.value.exit_code == 2


@pytest.mark.parametrize("text, fragment", [
    ("[]", "JSON object"),
    ('{"hooks": []}', '"hooks" must be an object'),
    ('{"hooks": {"Stop": {}}}', '"Stop" must be a list'),
])
def test_parse_refuses_documents_it_could_only_clobber(text, fragment):
    with pytest.raises(sm.InvalidSettings, match=fragment):
        sm.parse(text, "s.json")


# ---- merge ------------------------------------------------------------------------------------------------

def test_merge_into_an_empty_document_adds_the_template():
    assert sm.merge({}, template(), OURS) == {"hooks": template()}


def test_merge_keeps_other_keys_in_their_order():
    doc = {"permissions": {"allow": ["Bash(ls)"]}, "hooks": {}, "model": "opus"}
    merged = sm.merge(doc, template(), OURS)
    assert list(merged) == ["permissions", "hooks", "model"]
    assert merged["permissions"] == doc["permissions"] and merged["model"] == "opus"


def test_merge_replaces_older_entries_in_place_and_keeps_user_handlers():
    doc = {"hooks": {"PreToolUse": [
        {"matcher": "Bash", "hooks": [handler("./check-bash.sh")]},
        {"matcher": "Edit", "hooks": [handler("agent-sync hook pre-tool-use"), handler("./fmt.sh")]},
        {"matcher": "Write", "hooks": [handler("./last.sh")]},
    ]}}
    merged = sm.merge(doc, template(), OURS)
    groups = merged["hooks"]["PreToolUse"]
    assert groups[0] == doc["hooks"]["PreToolUse"][0]
    assert groups[1] == template()["PreToolUse"][0]  # took the place of the old entry
    assert groups[2] == {"matcher": "Edit", "hooks": [handler("./fmt.sh")]}
    assert groups[3] == doc["hooks"]["PreToolUse"][2]
    assert our_commands(merged).count(f"{PRE} pre-tool-use") == 1


def test_merge_drops_our_entries_from_events_the_template_no_longer_has():
    doc = {"hooks": {"Notification": [{"hooks": [handler("agent-sync hook notification")]}],
                     "SessionEnd": [{"hooks": [handler("./bye.sh"), handler("agent-sync hook session-end")]}]}}
    merged = sm.merge(doc, template(), OURS)
    assert "Notification" not in merged["hooks"]
    assert merged["hooks"]["SessionEnd"] == [{"hooks": [handler("./bye.sh")]}]


def test_merge_leaves_odd_groups_untouched():
    doc = {"hooks": {"Stop": ["not a group", {"hooks": "not a list"}, {"matcher": "x"}]}}
    merged = sm.merge(doc, template(), OURS)
    assert merged["hooks"]["Stop"][:3] == doc["hooks"]["Stop"]


def test_merge_does_not_change_its_input():
    doc = {"hooks": {"Stop": [{"hooks": [handler("agent-sync hook stop"), handler("./x")]}]}}
    before = json.dumps(doc)
    sm.merge(doc, template(), OURS)
    sm.unmerge(doc, OURS)
    assert json.dumps(doc) == before


def test_unmerge_removes_ours_and_what_only_we_created():
    merged = sm.merge({"model": "x"}, template(), OURS)
    assert sm.unmerge(merged, OURS) == {"model": "x"}
    assert sm.unmerge({"hooks": {}}, OURS) == {"hooks": {}}
    assert sm.unmerge({"hooks": {"Stop": []}}, OURS) == {"hooks": {"Stop": []}}


# ---- output -----------------------------------------------------------------------------------------------

def test_dumps_is_stable_and_keeps_non_ascii():
    doc = {"b": 1, "a": "café"}
    assert sm.dumps(doc) == '{\n  "b": 1,\n  "a": "café"\n}\n'
    assert sm.dumps(doc, 4).startswith('{\n    "b"')


@pytest.mark.parametrize("text, indent", [
    ('{\n    "a": 1\n}\n', 4), ('{\n\t"a": 1\n}', "\t"), ('{"a": 1}', 2), ('{\n  "a": 1\n}', 2), ("", 2),
])
def test_detect_indent(text, indent):
    assert sm.detect_indent(text) == indent


def test_render_fills_the_placeholder_everywhere():
    rendered = sm.render({"hooks": {"Stop": [{"hooks": [handler("{{HOOK}} stop")]}]}}, "RUN")
    assert rendered == {"Stop": [{"hooks": [handler("RUN stop")]}]}


# ---- properties ---------------------------------------------------------------------------------------------

user_handler = st.builds(handler, st.sampled_from(["./a.sh", "echo hi", "make lint", "npx prettier --write"]))
our_handler = st.builds(handler, st.sampled_from([
    "agent-sync hook stop", f"{PRE} pre-tool-use", "python3 x/agent-sync.pyz hook session-start"]))
group = st.builds(lambda matcher, hooks: ({"matcher": matcher} if matcher else {}) | {"hooks": hooks},
                  st.sampled_from([None, "Bash", "Edit|Write"]), st.lists(st.one_of(user_handler, our_handler)))
documents = st.builds(
    lambda extra, hooks: {**extra, "hooks": hooks},
    st.dictionaries(st.sampled_from(["model", "env", "permissions"]), st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["PreToolUse", "Stop", "SessionStart", "Notification"]), st.lists(group),
                    max_size=4),
)


def without_empties(doc):
    """Empty event lists and an empty `hooks` carry no meaning; unmerge may drop ones merge filled."""
    hooks = {k: v for k, v in doc.get("hooks", {}).items() if v}
    return {k: v for k, v in doc.items() if k != "hooks"} | ({"hooks": hooks} if hooks else {})


def user_handlers(doc):
    return [h["command"] for h in sm.handlers(doc) if not OURS(h["command"])]


@settings(max_examples=300, deadline=None)
@given(documents)
def test_merge_is_idempotent_and_reversible(doc):
    once = sm.merge(doc, template(), OURS)
    assert sm.merge(once, template(), OURS) == once
    assert sm.dumps(sm.merge(json.loads(sm.dumps(once)), template(), OURS)) == sm.dumps(once)
    assert user_handlers(once) == user_handlers(doc)
    assert sorted(our_commands(once)) == sorted([f"{PRE} pre-tool-use", f"{PRE} stop"])
    assert without_empties(sm.unmerge(once, OURS)) == without_empties(sm.unmerge(doc, OURS))
    assert not sm.has_ours(sm.unmerge(once, OURS), OURS)
    assert [k for k in once if k != "hooks"] == [k for k in doc if k != "hooks"]
