"""Pure logic for putting our hook entries into an agent's settings document, and taking them out.

Nothing here touches the filesystem: `install` reads the file, calls these
functions and writes the result. A settings document is any JSON object
with a `hooks` object of `{"<Event>": [{"matcher": ..., "hooks": [handler, ...]}]}`.
Which handlers are ours is decided by a predicate on the command string, so
entries written by any version, from any path, are found and replaced in place.
"""

import json
import re

from ..core.errors import UsageError

PLACEHOLDER = "{{HOOK}}"


class InvalidSettings(UsageError):
    """A settings file is not valid JSON, or not shaped like a settings document."""


def parse(text, name):
    """The settings object in `text` (empty text is an empty object). `name` labels errors."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSettings(
            f"{name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; "
            "fix it and run the command again (the file was not changed)") from None
    if not isinstance(value, dict):
        raise InvalidSettings(f"{name}: expected a JSON object at the top level, found {type(value).__name__}")
    check_shape(value, name)
    return value


def check_shape(settings, name):
    """Refuse documents whose `hooks` we could only rewrite by discarding something."""
    hooks = settings.get("hooks")
    if hooks is None:
        return
    if not isinstance(hooks, dict):
        raise InvalidSettings(f"{name}: \"hooks\" must be an object, found {type(hooks).__name__}")
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            raise InvalidSettings(f"{name}: \"hooks\".\"{event}\" must be a list, found {type(groups).__name__}")


def detect_indent(text, default=2):
    """The indentation an existing file uses, so a merge does not reformat it needlessly."""
    match = re.search(r"^[{\[][ \t]*\r?\n([ \t]+)\S", text.lstrip("\ufeff"))
    if not match:
        return default
    unit = match.group(1)
    return "\t" if unit.startswith("\t") else len(unit)


def dumps(settings, indent=2):
    """Stable text: key order kept, non-ASCII kept, one trailing newline."""
    return json.dumps(settings, indent=indent, ensure_ascii=False) + "\n"


def render(template, hook_prefix):
    """The template's `hooks` object with every {{HOOK}} replaced by the command prefix."""
    def fill(value):
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, str):
            return value.replace(PLACEHOLDER, hook_prefix)
        return value

    hooks = template.get("hooks", template)
    return fill(hooks)


def _ours(handler, is_ours):
    return isinstance(handler, dict) and is_ours(handler.get("command"))


def _strip_event(groups, is_ours):
    """(groups without our handlers, index where our first group was or None)."""
    kept, first = [], None
    for group in groups:
        handlers = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(handlers, list) or not any(_ours(h, is_ours) for h in handlers):
            kept.append(group)
            continue
        if first is None:
            first = len(kept)
        rest = [h for h in handlers if not _ours(h, is_ours)]
        if rest:
            kept.append(dict(group, hooks=rest))
    return kept, first


def strip_flat(entries, is_ours):
    """For files whose events list handlers directly: (the others, where ours began)."""
    first = next((i for i, e in enumerate(entries) if is_ours(e)), None)
    kept = [e for e in entries if not is_ours(e)]
    return kept, None if first is None else sum(1 for e in entries[:first] if not is_ours(e))


def merge(settings, hooks, is_ours, strip=None):
    """A copy of `settings` whose handlers for which `is_ours` holds are exactly `hooks`.

    Our groups take the place of the first group that held one of ours (or go
    last); every other key, group and handler keeps its value and its order.
    merge(merge(s)) == merge(s). `strip` is `strip_flat` for files without
    matcher groups.
    """
    strip = strip or _strip_event
    result = dict(settings)
    current = dict(result.get("hooks") or {})
    for event in list(current):
        kept, first = strip(current[event], is_ours)
        if event in hooks:
            at = len(kept) if first is None else first
            kept[at:at] = hooks[event]
        if kept or first is None:
            current[event] = kept
        else:
            del current[event]
    for event, groups in hooks.items():
        if event not in current:
            current[event] = list(groups)
    if current or "hooks" in result:
        result["hooks"] = current
    return result


def unmerge(settings, is_ours):
    """A copy of `settings` without our handlers; events and `hooks` emptied by that go too."""
    if not isinstance(settings.get("hooks"), dict):
        return dict(settings)
    result = dict(settings)
    current = {}
    for event, groups in result["hooks"].items():
        kept, first = _strip_event(groups, is_ours)
        if kept or first is None:
            current[event] = kept
    if current or not result["hooks"]:
        result["hooks"] = current
    else:
        del result["hooks"]
    return result


def has_ours(settings, is_ours):
    return any(_ours(h, is_ours) for h in handlers(settings))


def handlers(settings, event=None):
    """Every handler dict in the document (or under one event), in order."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return []
    found = []
    for name, groups in hooks.items():
        if event is not None and name != event or not isinstance(groups, list):
            continue
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(inner, list):
                found.extend(h for h in inner if isinstance(h, dict))
    return found
