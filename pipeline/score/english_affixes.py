"""Character classes and affix patterns of a blank spaCy English tokenizer, written out for `re`.

datatrove (0.10) splits English words with `spacy.blank("en")`; FineWeb's Gopher and C4 numbers
were computed that way. These are the *shapes* of spaCy's rules (what may split off the front or
the back of a whitespace chunk, what splits a chunk inside), expressed over Unicode properties
read from `unicodedata` instead of spaCy's hand-listed script ranges: on Latin, Greek and
Cyrillic text both select the same letters. The special cases (contractions, abbreviations) live
in `english_specials`; the algorithm that applies all of it lives in `english_tokens`.
"""

from __future__ import annotations

import re
import sys
import unicodedata


def _ranges(codepoints: list[int]) -> str:
    """A regex character-class body for a sorted list of code points."""
    out: list[str] = []
    i = 0
    while i < len(codepoints):
        j = i
        while j + 1 < len(codepoints) and codepoints[j + 1] == codepoints[j] + 1:
            j += 1
        a, b = codepoints[i], codepoints[j]
        out.append(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}")
        i = j + 1
    return "".join(out)


def _classes() -> tuple[str, str, str, str]:
    """(letters, lower + uncased letters, upper + uncased letters, other symbols `So`)."""
    alpha: list[int] = []
    lower: list[int] = []
    upper: list[int] = []
    symbols: list[int] = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if ch.isalpha():
            alpha.append(cp)
            low, up = ch.islower(), ch.isupper()
            if low or not up:
                lower.append(cp)
            if up or not low:
                upper.append(cp)
        elif unicodedata.category(ch) == "So":
            symbols.append(cp)
    return _ranges(alpha), _ranges(lower), _ranges(upper), _ranges(symbols)


ALPHA, ALPHA_LOWER, ALPHA_UPPER, ICONS = _classes()


def _words(spaced: str) -> list[str]:
    return spaced.split()

# Characters a blank spaCy tokenizer treats as punctuation, quotes, hyphens, currency and units
# (spaCy's lang/char_classes.py lists the same groups).
PUNCT = ["…", "……", ",", ":", ";", "!", "?", "¿", "؟", "¡", "(", ")", "[", "]", "{", "}", "<", ">",
         "_", "#", "*", "&", "。", "？", "！", "，", "、", "；", "：", "～", "·", "।", "،", "۔", "؛", "٪"]
QUOTES = ["'", '"', "”", "“", "`", "‘", "´", "’", "‚", ",", "„", "»", "«", "「", "」", "『", "』", "（",
          "）", "〔", "〕", "【", "】", "《", "》", "〈", "〉", "〈", "〉", "⟦", "⟧"]
HYPHENS = ["-", "–", "—", "--", "---", "——", "~"]
CURRENCY = ["$", "£", "€", "¥", "฿", "US$", "C$", "A$", "₽", "﷼", "₴"] + [chr(c) for c in range(0x20A0, 0x20C0)]
UNITS = _words(
    'km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz m/s '
    'km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K % км км² км³ м м² м³ дм дм² дм³ см см² '
    'см³ мм мм² мм³ нм кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тбكم كم² كم³ م '
    'م² م³ سم سم² سم³ مم مم² مم³ كم غرام جرام جم كغ ملغ كوب اكواب'
)
ELLIPSES = [r"\.\.+", "…"]


def _alt(items: list[str]) -> list[str]:
    return [re.escape(i) for i in items]


_Q = "".join(re.escape(q) for q in QUOTES)
_P = "".join(re.escape(p) for p in PUNCT)
_ICON = f"[{ICONS}]"

PREFIXES = ["§", "%", "=", "—", "–", r"\+(?![0-9])", *_alt(PUNCT), *ELLIPSES, *_alt(QUOTES),
            *_alt(CURRENCY), _ICON]
SUFFIXES = [*_alt(PUNCT), *ELLIPSES, *_alt(QUOTES), _ICON, "'s", "'S", "’s", "’S", "—", "–",
            r"(?<=[0-9])\+",
            r"(?<=°[FfCcKk])\.",
            rf"(?<=[0-9])(?:{'|'.join(_alt(CURRENCY))})",
            rf"(?<=[0-9])(?:{'|'.join(_alt(UNITS))})",
            # a period after a digit, a lower-case letter, %²-+, punctuation or a quote: "(?:" and
            # ")" sit inside the class on purpose, as in spaCy's pattern
            rf"(?<=[0-9{ALPHA_LOWER}%²\-\+{_P}(?:{_Q})])\.",
            rf"(?<=[{ALPHA_UPPER}][{ALPHA_UPPER}])\."]
INFIXES = [*ELLIPSES, _ICON,
           r"(?<=[0-9])[+\-\*^](?=[0-9-])",
           rf"(?<=[{ALPHA_LOWER}{_Q}])\.(?=[{ALPHA_UPPER}{_Q}])",
           rf"(?<=[{ALPHA}]),(?=[{ALPHA}])",
           rf"(?<=[{ALPHA}0-9])(?:{'|'.join(_alt(HYPHENS))})(?=[{ALPHA}])",
           rf"(?<=[{ALPHA}0-9])[:<>=/](?=[{ALPHA}])"]

PREFIX_RE = re.compile("^(?:" + "|".join(PREFIXES) + ")")
SUFFIX_RE = re.compile("(?:" + "|".join(SUFFIXES) + ")$")
INFIX_RE = re.compile("|".join(INFIXES))

# URLs and e-mail addresses stay one token (after affixes are split off). The shape of the
# widely used dperini URL pattern: optional scheme and user@, dotted host ending in a lower-case
# top-level label, optional port and path.
_HOST_CHAR = "A-Za-z0-9\u00a1-\uffff"
URL_RE = re.compile(
    r"^(?:[\w+\-.]{2,}://)?"
    r"(?:\S+(?::\S*)?@)?"
    r"(?:(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
    r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
    rf"|(?:(?:[{_HOST_CHAR}][{_HOST_CHAR}_-]{{0,62}})?[{_HOST_CHAR}]\.)+(?:[{ALPHA_LOWER}]{{2,63}}))"
    r"(?::\d{2,5})?"
    r"(?:[/?#]\S*)?$")

# Unicode's Sentence_Terminal property (PropList.txt): the characters spaCy's sentencizer ends a
# sentence on and datatrove's TERMINAL_PUNCTUATION.
_STERM = ("21 2E 3F 589 61D-61F 6D4 700-702 7F9 837 839 83D-83E 964-965 104A-104B 1362 1367-1368 166E "
          "1735-1736 17D4-17D6 17D9-17DA 1803 1809 1944-1945 1AA8-1AAB 1B5A-1B5B 1B5E-1B5F 1B7D-1B7E "
          "1C3B-1C3C 1C7E-1C7F 203C-203D 2047-2049 2E2E 2E3C 2E53-2E54 3002 A4FF A60E-A60F A6F3 A6F7 "
          "A876-A877 A8CE-A8CF A92F A9C8-A9C9 AA5D-AA5F AAF0-AAF1 ABEB FE52 FE56-FE57 FF01 FF0E FF1F FF61 "
          "10A56-10A57 10F55-10F59 10F86-10F89 11047-11048 110BE-110C1 11141-11143 111C5-111C6 111CD "
          "111DE-111DF 11238-11239 1123B-1123C 112A9 1144B-1144C 115C2-115C3 115C9-115D7 11641-11642 "
          "1173C-1173E 11944 11946 11A42-11A43 11A9B-11A9C 11C41-11C42 11EF7-11EF8 11F43-11F44 "
          "16A6E-16A6F 16AF5 16B37-16B38 16B44 16E98 1BC9F 1DA88")


def _expand(spec: str) -> frozenset[str]:
    out: set[str] = set()
    for part in spec.split():
        a, _, b = part.partition("-")
        out.update(chr(c) for c in range(int(a, 16), int(b or a, 16) + 1))
    return frozenset(out)


SENTENCE_TERMINALS = _expand(_STERM)
