"""Every command line we print for an agent or a person to run is built here, from its words.

Such a line gets copied into a shell, so agent-written text in it (a path, a pattern,
a name, a reason) must reach the shell as one literal argument, never as code: each
word is `shlex.quote`d, an option value that starts with `-` is joined to its flag
(`--to=-x`, so it cannot read as a flag), and a positional one follows `--`.
Text that cannot be printed on one line as it is (control characters, a frame
marker, anything over MAX_WORD) is refused with Unprintable: the caller leaves
it out rather than print a command that would not say what it means.
"""


from . import program as launcher
from . import sanitize

MAX_WORD = 400


class Unprintable(ValueError):
    """This text cannot go into a printed command as it is."""


def program() -> str:
    """The words that start agent-sync where the command is shown, already quoted (core.program)."""
    return launcher.prefix()


def word(text: object) -> str:
    """One shell word for `text`, or Unprintable."""
    text = str(text)
    if not text.isprintable() or len(text) > MAX_WORD or sanitize.looks_like_frame(text):
        raise Unprintable(text[:40])
    return launcher.quote(text)


def argv(verb: str, *positionals: object, **options: object) -> "list[str]":
    """The words of `agent-sync VERB --option VALUE ... [--] POSITIONAL...`, unquoted.

    Options are keyword arguments in order (`reply_to` is `--reply-to`); True
    gives a bare flag, None or False leaves the option out.
    """
    words = verb.split()
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            words.append(flag)
        elif str(value).startswith("-"):
            words.append(f"{flag}={value}")
        else:
            words += [flag, str(value)]
    if any(str(p).startswith("-") for p in positionals):
        words.append("--")
    return words + [str(p) for p in positionals]


def line(words: "list[str]") -> str:
    """One shell line for these words, each quoted (Unprintable when one cannot be shown)."""
    return " ".join(word(w) for w in words)


def command(verb: str, *positionals: object, **options: object) -> str:
    """The printable `agent-sync ...` command line (see argv)."""
    return f"{program()} {line(argv(verb, *positionals, **options))}"


def command_or(fallback: "dict[str, object]", verb: str, *positionals: object, **options: object) -> str:
    """`command(...)`, or `command(verb, **fallback)` when some agent-written word is unprintable."""
    try:
        return command(verb, *positionals, **options)
    except Unprintable:
        return command(verb, **fallback)
