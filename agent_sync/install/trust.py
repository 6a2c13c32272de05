"""Will each agent run this project's hooks? Agents skip an untrusted project's hooks without a word.

One function per agent, `check_<agent>(root, environ) -> Untrusted | None`. Each
reads only that agent's own files; None means the agent will run the hooks, or
that its files cannot tell. `install --agent` prints what it finds; `doctor`
fails with exit 8 (hooks installed but not enforced).
"""

import hashlib
import json
import os

from . import command_line


class Untrusted:
    """Why an agent will not run the project's hooks, and what the user must do."""

    def __init__(self, agent, problem, fix):
        self.agent, self.problem, self.fix = agent, problem, fix

    def __str__(self):
        return f"{self.problem} Fix: {self.fix}"


def check(name, root, environ=os.environ):
    """The agent's verdict on the project at `root` (None for agents with nothing to check)."""
    checker = CHECKS.get(name)
    return checker(os.path.realpath(root), environ) if checker else None


def _in(root, program):
    """`cd ROOT && PROGRAM`, the folder quoted (a cloned repository's path is anyone's text)."""
    from ..core import suggest

    try:
        return suggest.line(["cd", root]) + " && " + program
    except suggest.Unprintable:
        return f"{program} (in the repository's folder)"


def _home(environ):
    return environ.get("HOME") or environ.get("USERPROFILE") or os.path.expanduser("~")


def _same_or_inside(path, base):
    path, base = os.path.normcase(path), os.path.normcase(base)
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


# ---------------------------------------------------------------------------
# Codex CLI: the project must be trusted, and every hook reviewed (`/hooks`)


def check_codex(root, environ=os.environ):
    """Codex loads <root>/.codex only for a trusted project, and runs a hook only once its hash is trusted.

    Both live in $CODEX_HOME/config.toml (default ~/.codex): `[projects."<root>"]
    trust_level = "trusted"`, and `[hooks.state."<hooks.json>:<event>:<group>:<handler>"]
    trusted_hash = "sha256:..."`, which Codex records when the user trusts a hook in `/hooks`.
    """
    config_path = os.path.join(environ.get("CODEX_HOME") or os.path.join(_home(environ), ".codex"), "config.toml")
    try:
        config = _read_toml(config_path)
    except FileNotFoundError:
        config = {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return Untrusted("codex", f"Codex cannot read {config_path} ({exc}).", "fix that file.")
    if _table(_table(config, "features")).get("hooks") is False:
        return Untrusted("codex", f"Codex hooks are turned off ([features] hooks = false in {config_path}).",
                         f"remove that setting from {config_path}.")
    projects = _table(config, "projects")
    level = next((_table(projects, key).get("trust_level") for key in _project_keys(root)
                  if "trust_level" in _table(projects, key)), None)
    if level != "trusted":
        marked = "marks it untrusted" if level == "untrusted" else "has not trusted it"
        return Untrusted(
            "codex", f"Codex skips {root}/.codex/hooks.json: {config_path} {marked}.",
            f'run `{_in(root, "codex")}` and answer yes to trusting the folder, or add to {config_path}: '
            f'[projects.{json.dumps(root)}] trust_level = "trusted". Then review the hooks (below).')
    states = _table(_table(config, "hooks"), "state")
    pending = [key for key, digest in codex_hook_hashes(os.path.join(root, ".codex", "hooks.json"))
               if _table(states, key).get("trusted_hash") != digest or _table(states, key).get("enabled") is False]
    if pending:
        return Untrusted(
            "codex", f"Codex has not trusted {len(pending)} of agent-sync's hooks in {root}/.codex/hooks.json "
                     "(new, or changed since they were reviewed), and skips them.",
            f"run `{_in(root, 'codex')}`, type /hooks, and trust the agent-sync hooks.")
    return None


def _project_keys(root):
    """Where Codex looks up a project's trust: the checkout, then the main checkout of a linked worktree."""
    keys = [root]
    git = os.path.join(root, ".git")
    if os.path.isfile(git):  # a linked worktree: .git names <main>/.git/worktrees/<name>
        try:
            with open(git, encoding="utf-8") as handle:
                line = handle.read().strip()
            if line.startswith("gitdir:"):
                common = os.path.realpath(os.path.join(root, line[7:].strip(), "..", ".."))
                keys.append(os.path.dirname(common))
        except OSError:
            pass
    return keys


def codex_hook_hashes(hooks_json, wanted=command_line.is_ours):
    """(state key, hash) of every `wanted` command hook in a Codex hooks.json, as Codex computes them.

    Codex hashes a normalised identity of each handler: the event's snake_case
    name, the group's matcher, and the handler with its timeout filled in
    (SessionEnd's cut to 3 s), as canonical JSON (sorted keys, no spaces).
    """
    try:
        with open(hooks_json, encoding="utf-8") as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return []
    out = []
    events = doc.get("hooks") if isinstance(doc, dict) else None
    for event, groups in (events.items() if isinstance(events, dict) else ()):
        label = "".join("_" + c.lower() if c.isupper() else c for c in event).lstrip("_")
        for g, group in enumerate(groups if isinstance(groups, list) else ()):
            handlers = group.get("hooks") if isinstance(group, dict) else None
            for h, handler in enumerate(handlers if isinstance(handlers, list) else ()):
                if isinstance(handler, dict) and isinstance(handler.get("command"), str) and wanted(handler["command"]):
                    out.append((f"{hooks_json}:{label}:{g}:{h}", _codex_hash(label, group.get("matcher"), handler)))
    return out


def _codex_hash(label, matcher, handler):
    timeout = max(1, handler.get("timeout", 600) if isinstance(handler.get("timeout"), int) else 600)
    normal = {"type": "command", "command": handler["command"],
              "timeout": min(timeout, 3) if label == "session_end" else timeout,
              "async": handler.get("async") is True}
    if isinstance(handler.get("statusMessage"), str):
        normal["statusMessage"] = handler["statusMessage"]
    identity = {"event_name": label, "hooks": [normal]}
    if isinstance(matcher, str):
        identity["matcher"] = matcher
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _table(doc, key=None):
    value = doc if key is None else (doc.get(key) if isinstance(doc, dict) else None)
    return value if isinstance(value, dict) else {}


def _read_toml(path):
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        import tomllib
    except ImportError:  # Python 3.10
        return read_toml_tables(data.decode("utf-8"))
    try:
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(str(exc)) from None


def read_toml_tables(text):
    """The tables and simple values of a TOML file: enough for Codex's trust settings on Python 3.10.

    Reads `[a."b c".d]` headers and `key = "string" | 'literal' | true | false | 123`
    lines; arrays, inline tables and multi-line strings are skipped.
    """
    doc = current = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            current = {}  # an array of tables: nothing trust needs
            continue
        if line.startswith("["):
            current = doc
            for part in _split_key(line[1:line.rindex("]")] if "]" in line else line[1:]):
                current = current.setdefault(part, {})
                if not isinstance(current, dict):
                    current = {}
            continue
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        keys = _split_key(key)
        parsed = _scalar(value.strip())
        if keys and parsed is not _SKIP:
            target = current
            for part in keys[:-1]:
                target = target.setdefault(part, {}) if isinstance(target.get(part, {}), dict) else {}
            target[keys[-1]] = parsed
    return doc


_SKIP = object()


def _split_key(text):
    """`a."b.c".d` -> ["a", "b.c", "d"]."""
    parts, buf, quote, i = [], "", None, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < len(text):
                buf += text[i + 1]
                i += 2
                continue
            if ch == quote:
                quote = None
            else:
                buf += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(buf.strip())
            buf = ""
        else:
            buf += ch
        i += 1
    parts.append(buf.strip())
    return [p for p in parts if p]


def _scalar(value):
    if value.startswith('"') and not value.startswith('"""'):
        try:
            return json.loads(value[: _closing(value) + 1])
        except ValueError:
            return _SKIP
    if value.startswith("'") and not value.startswith("'''"):
        end = value.find("'", 1)
        return value[1:end] if end > 0 else _SKIP
    word = value.split("#", 1)[0].strip()
    if word in ("true", "false"):
        return word == "true"
    try:
        return int(word.replace("_", ""))
    except ValueError:
        return _SKIP


def _closing(value):
    i = 1
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        if value[i] == '"':
            return i
        i += 1
    return len(value) - 1


# ---------------------------------------------------------------------------
# Gemini CLI: folder trust (on by default) in ~/.gemini/trustedFolders.json


def check_gemini(root, environ=os.environ):
    """Gemini ignores an untrusted folder's .gemini/settings.json, hooks included (headless, it refuses to start).

    Trust comes from GEMINI_CLI_TRUST_WORKSPACE=true, from folder trust being
    turned off in the user's settings, or from the longest rule in
    trustedFolders.json that covers the folder (TRUST_FOLDER, TRUST_PARENT for
    the rule's parent, DO_NOT_TRUST).
    """
    forced = environ.get("GEMINI_CLI_TRUST_WORKSPACE")
    if forced == "true":
        return None
    if forced == "false" or environ.get("GEMINI_RESTRICTED_MODE") == "true":
        return Untrusted("gemini", "Gemini CLI runs untrusted here: the environment sets "
                                   "GEMINI_CLI_TRUST_WORKSPACE=false or GEMINI_RESTRICTED_MODE=true.",
                         "unset that variable.")
    gemini_dir = os.path.join(_home(environ), ".gemini")
    settings = _read_json(os.path.join(gemini_dir, "settings.json"))
    if _table(_table(_table(settings, "security"), "folderTrust")).get("enabled") is False:
        return None
    rules_path = environ.get("GEMINI_CLI_TRUSTED_FOLDERS_PATH") or os.path.join(gemini_dir, "trustedFolders.json")
    rules = _read_json(rules_path)
    if rules is None:
        return Untrusted("gemini", f"Gemini CLI cannot read {rules_path}, and refuses to start.", "fix that file.")
    best, best_length = None, -1
    for rule, level in rules.items():
        if not isinstance(rule, str) or level not in ("TRUST_FOLDER", "TRUST_PARENT", "DO_NOT_TRUST"):
            continue
        base = os.path.dirname(rule) if level == "TRUST_PARENT" else rule
        if _same_or_inside(root, os.path.realpath(base)) and len(rule) > best_length:
            best, best_length = level, len(rule)
    if best in ("TRUST_FOLDER", "TRUST_PARENT"):
        return None
    marked = "is marked \"Don't trust\"" if best == "DO_NOT_TRUST" else "is not trusted"
    return Untrusted(
        "gemini", f"Gemini CLI ignores {root}/.gemini/settings.json, and so agent-sync's hooks: the folder {marked} "
                  f"in {rules_path}.",
        f'run `{_in(root, "gemini")}` and choose "Trust folder", or set "{root}": "TRUST_FOLDER" in {rules_path}.')


def _read_json(path):
    """The JSON object in `path`: {} when the file is missing, None when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.loads(handle.read() or "{}")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


# ---------------------------------------------------------------------------
# Copilot CLI: .github/hooks load only in a trusted folder


def check_copilot(root, environ=os.environ):
    """Copilot CLI loads .github/hooks only in a trusted folder (as Copilot CLI 1.0.102 does).

    Trusted: the folder or one above it is in `trustedFolders` of $COPILOT_HOME/config.json
    (default ~/.copilot/config.json), which "trust this folder for future sessions" writes;
    or COPILOT_ALLOW_ALL is exactly "true" (its other truthy spellings only approve tools).
    """
    if environ.get("COPILOT_ALLOW_ALL") == "true":
        return None
    config_path = os.path.join(environ.get("COPILOT_HOME") or os.path.join(_home(environ), ".copilot"), "config.json")
    folders = _copilot_trusted(config_path)
    if folders is None:
        return Untrusted("copilot", f"Copilot CLI cannot read {config_path}.", "fix that file.")
    if any(_same_or_inside(root, os.path.realpath(os.path.expanduser(f))) for f in folders):
        return None
    return Untrusted(
        "copilot", f"Copilot CLI skips {root}/.github/hooks, and so agent-sync's hooks, without a word: the folder "
                   f"is not trusted in {config_path}.",
        f"run `{_in(root, 'copilot')}` and choose to trust the folder for future sessions, or add {json.dumps(root)} "
        f'to "trustedFolders" in {config_path}.')


def _copilot_trusted(path):
    """The folders Copilot's config.json trusts ([] when it has none); None when it cannot be read.

    Copilot writes `//` comment lines at the top of that file.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line for line in handle.read().splitlines() if not line.lstrip().startswith("//")]
        value = json.loads("\n".join(lines) or "{}")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    folders = []
    for key in ("trustedFolders", "trusted_folders"):  # the second is what older releases wrote
        listed = value.get(key)
        if isinstance(listed, list):
            folders += [f for f in listed if isinstance(f, str) and f]
    return folders


CHECKS = {"codex": check_codex, "gemini": check_gemini, "copilot": check_copilot}
