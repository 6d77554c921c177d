"""Built-in translation sets, generated offline from real linguistic data.

- ``dates``: a date written out in one of 14 languages and 3 styles, with month and day names from the Unicode CLDR
  locale data that Babel ships (``babel.dates.format_date``), → its ISO form. ``"jeudi 7 mars 1996"``,
  ``"7. März 1996"``, ``"March 7, 1996"``, ``"7 de marzo de 1996"`` → ``"1996-03-07"``. In most languages the year
  moves from the end to the front and the day and month swap places: attention has to reorder. Hungarian
  (``"1996. március 7."``) and Japanese (``"1996年3月7日"``) already write year, month, day. Characters.
- ``numbers``: a whole number written in English words → the same number in French words, both from num2words:
  ``"three hundred and twenty-one"`` → ``"trois cent vingt et un"``; French adds ``et``, agrees ``cents`` and
  ``quatre-vingts`` and says 70 as 60 + 10. Words.

Held-out pairs are other dates and numbers than the training ones (the split is by source sentence, and each source
sentence names one date or number).
"""

from __future__ import annotations

import datetime as dt
import random

from rnnlab.data.pairs import Pair, normalize
from rnnlab.errors import RnnlabError

DATE_LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_PT", "nl_NL", "sv_SE", "pl_PL", "tr_TR",
                "id_ID", "hu_HU", "ja_JP")  # fmt: skip
DATE_STYLES = ("full", "long", "medium")  # "short" (3/4/21) is ambiguous; numeric "medium" ones are d.m.y or y/m/d
BUILTIN = {
    "dates": "dates in 14 languages and 3 styles → ISO 8601 (characters; Babel/CLDR names)",
    "numbers": "numbers in English words → French words (num2words)",
}
LEVELS = {"dates": "char", "numbers": "word"}


def date_pairs(count: int = 30_000, *, seed: int = 0, first_year: int = 1900, last_year: int = 2099) -> list[Pair]:
    """``count`` (written date, ISO date) pairs, each written date distinct."""
    from babel.dates import format_date

    rng = random.Random(seed)
    start = dt.date(first_year, 1, 1).toordinal()
    end = dt.date(last_year, 12, 31).toordinal()
    pairs, seen = [], set()
    while len(pairs) < count:
        day = dt.date.fromordinal(rng.randint(start, end))
        locale, style = rng.choice(DATE_LOCALES), rng.choice(DATE_STYLES)
        text = normalize(format_date(day, format=style, locale=locale))
        if text in seen:
            continue
        seen.add(text)
        pairs.append(Pair(text, day.isoformat()))
    return pairs


def number_pairs(count: int = 30_000, *, seed: int = 0, largest: int = 999_999) -> list[Pair]:
    """``count`` (English words, French words) pairs of distinct numbers; small numbers are drawn more often."""
    from num2words import num2words

    if count > largest + 1:
        raise ValueError(f"only {largest + 1} numbers up to {largest}, asked for {count}")
    rng = random.Random(seed)
    numbers: set[int] = set()
    while len(numbers) < count:
        digits = rng.randint(1, len(str(largest)))  # as many 2-digit as 6-digit numbers
        numbers.add(rng.randint(0, min(largest, 10**digits - 1)))
    ordered = sorted(numbers)
    rng.shuffle(ordered)
    return [Pair(num2words(n, lang="en"), num2words(n, lang="fr")) for n in ordered]


def builtin_pairs(name: str, count: int | None = None, *, seed: int = 0) -> list[Pair]:
    if name == "dates":
        return date_pairs(count or 30_000, seed=seed)
    if name == "numbers":
        return number_pairs(count or 30_000, seed=seed)
    raise RnnlabError(f"unknown built-in set {name!r}; choose one of: {', '.join(BUILTIN)}")
