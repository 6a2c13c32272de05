"""Agent names and roles: one normal form, and a skeleton to catch look-alikes.

A name is what other agents type after `--to`, so two names that look the same must
be the same name, and one that only looks like another must be refused. Names and
roles are stored NFKC-normalised, with runs of spaces collapsed; invisible and
format characters (zero-width spaces and joiners, bidi marks, BOM, fillers) are
refused. `skeleton` folds case, width, accents and the common Cyrillic, Greek and
digit look-alikes of Latin letters onto one string: two names with equal
skeletons are confusable. The map is small and built in (no dependency); it
covers what renders like ASCII in ordinary fonts, not all of Unicode's table.
"""

import unicodedata

from .errors import UsageError

# Characters that render as nothing (or as blank) but are not Cf: Hangul fillers, the combining grapheme
# joiner, the braille blank, Mongolian vowel separator and the variation selectors' relatives.
INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u034f\u2800\u180e\u17b4\u17b5")
REFUSED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")

# Look-alikes of Latin letters, folded onto them (checked after NFKC and casefolding).
_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m",
    "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d",
    "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ь": "b", "г": "r", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j", "μ": "u", "ζ": "z",
    # Latin oddities
    "ı": "i", "ȷ": "j", "ſ": "s", "ǀ": "l", "ℓ": "l",
    # digits and signs that pass for letters
    "0": "o", "1": "l", "|": "l", "5": "s", "$": "s", "@": "a",
}
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))  # letter pairs that read as one letter


def refused_character(text: str) -> str | None:
    """The first character a name or role may not hold, or None."""
    for ch in text:
        if ch in INVISIBLE or unicodedata.category(ch) in REFUSED_CATEGORIES:
            return ch
    return None


def normalise(text: str, field: str) -> str:
    """`text` in normal form (NFKC, single spaces, trimmed); UsageError for invisible or format characters."""
    text = unicodedata.normalize("NFKC", text)
    bad = refused_character(text)
    if bad is not None:
        raise UsageError(f"{field} must not contain invisible or format characters (U+{ord(bad):04X} "
                         f"{unicodedata.name(bad, 'unnamed')})")
    return " ".join(text.replace("\u1680", " ").split())


def skeleton(text: str) -> str:
    """What `text` looks like: equal skeletons mean confusable text."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if ch not in INVISIBLE and unicodedata.category(ch) not in ("Cf", "Cc"))
    text = text.casefold()  # names compare without case, so their skeletons do too
    text = unicodedata.normalize("NFD", text)
    text = "".join(_LOOKALIKES.get(ch, ch) for ch in text if unicodedata.category(ch) != "Mn")
    for pair, single in _PAIRS:
        text = text.replace(pair, single)
    return " ".join(text.split())
