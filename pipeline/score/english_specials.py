"""Special cases of the English tokenizer: contractions, abbreviations, a few emoticons.

spaCy's English tokenizer splits "don't" into "do" + "n't", keeps "e.g." and "Mr." whole, and so
on; its word counts (and so datatrove's Gopher numbers) depend on it. The table below is built
from English's contraction grammar (pronoun/wh-word + clitic, auxiliary + n't), written and
spelled with a straight, a curly or no apostrophe, minus the spellings that are ordinary words
("ill", "well", "were", "its", "shed", ...). `benchmarks/filters.py` measures how often the
result matches the real spaCy on real text.
"""

from __future__ import annotations

APOSTROPHES = ("'", "’", "")


def _words(spaced: str) -> list[str]:
    return spaced.split()

# Spellings without an apostrophe that are real words: never split them.
# Case matters: "Wed" at a sentence start is more often "We'd" than the verb.
_REAL_WORDS = {"ill", "its", "hell", "shell", "shed", "were", "well", "whore", "howdy", "Ill",
               "Its", "Hell", "Shell", "Shed", "Were", "Well", "Whore", "Howdy"}


def _add(table: dict[str, list[str]], orth: str, pieces: list[str], title: bool = True) -> None:
    if orth in _REAL_WORDS:
        return
    table.setdefault(orth, pieces)
    if title and orth[:1].islower():
        t = orth[0].upper() + orth[1:]
        if t not in _REAL_WORDS:
            table.setdefault(t, [pieces[0][0].upper() + pieces[0][1:], *pieces[1:]])


def _clitics(table: dict[str, list[str]], stem: str, clitics: list[str]) -> None:
    """stem + clitic ("they" + "'ll" + "'ve"), with each apostrophe spelling."""
    for ap in APOSTROPHES:
        for clitic in clitics:
            parts = [ap + c for c in clitic.split("+")]
            _add(table, stem + "".join(parts), [stem, *parts])


def _negations(table: dict[str, list[str]], verb: str, also_ve: bool) -> None:
    """verb + n't: "don't" -> "do" "n't", optionally + 've ("couldn't've")."""
    for ap in APOSTROPHES:
        neg = "n" + ap + "t"
        _add(table, verb + neg, [verb, neg])
        if also_ve:
            _add(table, verb + neg + ap + "ve", [verb, neg, ap + "ve"])


def contractions() -> dict[str, list[str]]:
    t: dict[str, list[str]] = {}
    _clitics(t, "i", ["m"])
    for ap in APOSTROPHES:
        _add(t, f"i{ap}ma", ["i", f"{ap}m", "a"])
    for pron in ["i", "you", "he", "she", "it", "we", "they"]:
        _clitics(t, pron, ["ll", "ll+ve", "d", "d+ve"])
    for pron in ["i", "you", "we", "they"]:
        _clitics(t, pron, ["ve"])
    for pron in ["you", "we", "they"]:
        _clitics(t, pron, ["re"])
    for pron in ["he", "she", "it"]:
        _clitics(t, pron, ["s"])
    for word in ["who", "what", "when", "where", "why", "how", "there"]:
        _clitics(t, word, ["s", "d", "d+ve", "ll", "ll+ve", "re", "ve"])
    for word in ["that", "this"]:  # singular: no 're / 've
        _clitics(t, word, ["s", "d", "d+ve", "ll", "ll+ve"])
    for word in ["these", "those"]:  # plural: no 's
        _clitics(t, word, ["d", "d+ve", "ll", "ll+ve", "re", "ve"])
    for ap in APOSTROPHES:
        _add(t, f"how{ap}d{ap}y", ["how", f"{ap}d", f"{ap}y"])
    for verb in ["could", "do", "does", "did", "had", "may", "might", "must", "need", "ought", "should",
                 "would"]:
        _negations(t, verb, also_ve=True)
    for verb, stem in [("can", "ca"), ("won", "wo"), ("shan", "sha")]:
        for ap in APOSTROPHES:
            _add(t, f"{verb}{ap}t", [stem, f"n{ap}t"])
            _add(t, f"{verb}{ap}t{ap}ve", [stem, f"n{ap}t", f"{ap}ve"])
    for verb in ["is", "are", "was", "were", "has", "have", "dare"]:
        _negations(t, verb, also_ve=False)
    for ap in APOSTROPHES:
        _add(t, f"ain{ap}t", ["ai", f"n{ap}t"])
        _add(t, f"not{ap}ve", ["not", f"{ap}ve"])
        for modal in ["could", "might", "must", "should", "would"]:
            _add(t, f"{modal}{ap}ve", [modal, f"{ap}ve"])
    for ap in ("'", "’"):
        _add(t, f"let{ap}s", ["let", f"{ap}s"])
        _add(t, f"c{ap}mon", [f"c{ap}m", "on"])
    for ap in APOSTROPHES:
        _add(t, f"y{ap}all", [f"y{ap}", "all"], title=False)
    _add(t, "cannot", ["can", "not"])
    _add(t, "gonna", ["gon", "na"])
    _add(t, "gotta", ["got", "ta"])
    return t


# Abbreviations kept whole with their period: titles, months, US states, company forms, Latin.
ABBREVIATIONS = _words(
    'Mr. Mrs. Ms. Dr. Prof. Messrs. Rev. Rep. Sen. Gov. Gen. Adm. Jr. Mt. St. Bros. Co. co. Corp. '
    'Inc. Ltd. Jan. Feb. Mar. Apr. Jun. Jul. Aug. Sep. Sept. Oct. Nov. Dec. Ala. Ak. Ariz. Ark. '
    'Calif. Colo. Conn. Del. Fla. Ga. Ia. Id. Ill. Ind. Kan. Kans. Ky. La. Mass. Md. Mich. Minn. '
    'Miss. Mo. Mont. Neb. Nebr. Nev. Okla. Ore. Pa. Tenn. Va. Wash. Wis. D.C. N.C. N.D. N.H. N.J. '
    "N.M. N.Y. S.C. Ph.D. e.g. E.g. E.G. i.e. I.e. I.E. vs. v.s. a.m. p.m. C++ and/or w/o o'clock "
    "O'clock o’clock O’clock ma'am Ma'am ma’am Ma’am"
)
# Words that drop a final g or d and keep the apostrophe ("goin'"), and clipped forms.
CLIPPED = ["doin", "goin", "havin", "lovin", "nothin", "nuthin", "somethin"]
APOSTROPHE_TOKENS = ["'s", "'S", "'d", "'ll", "'re", "'em", "'bout", "'cause", "'cos", "'coz", "'cuz",
                     "'nuff", "''", "'", "’", "’’", "‘s", "‘S", "—", "'Cause", "'Cos", "'Coz", "'Cuz"]
# Emoticons matter beyond chat: "f(x):" ends in the tokens ")" ":", which spaCy glues into "):".
EMOTICONS = _words(
    ':) :-) :)) :-)) :))) :-))) (: (-: =) (= :] :-] [: [-: [= =] :o) (o: :} :-} 8) 8-) (-8 ;) ;-) (; '
    "(-; :( :-( :(( :-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :’) :’-) :’( :’-( :/ :-/ =/ =| :| "
    ':-| ]= =[ :1 :P :-P :p :-p :O :-O :o :-o :0 :-0 :() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x :D '
    ':-D ;D ;-D =D xD XD xDD XDD 8D 8-D ^_^ ^__^ ^___^ >.< >.> <.< ._. ;_; -_- -__- v.v V.V v_v V_V '
    'o_o o_O O_o O_O 0_o o_0 0_0 o.o O.O o.O O.o 0.0 0.o o.0 @_@ <3 <33 <333 </3 (^_^) (-_-) (._.) '
    '(>_<) (*_*) (¬_¬) ಠ_ಠ (ಠ_ಠ) ಠ︵ಠ ¯\\(ツ)/¯ (╯°□°）╯︵┻━┻ ><(((*>'
)


def special_cases() -> dict[str, list[str]]:
    table = contractions()
    for orth in ABBREVIATIONS + EMOTICONS:
        table[orth] = [orth]
    for letter in "abcdefghijklmnopqrstuvwxyzäöü":
        table[letter + "."] = [letter + "."]  # initials and list labels: "a." stays one token
    for word in CLIPPED + ["ol"]:
        for orth in (word, word.title()):
            for ap in ("", "'", "’"):
                table[orth + ap] = [orth + ap]
    for orth in APOSTROPHE_TOKENS:
        table[orth] = [orth]
        if orth.startswith("'") and orth[1:] != "'":
            table["’" + orth[1:]] = ["’" + orth[1:]]
    for orth in ("\\n", "\\t", '\\")'):  # a backslash escape written out in prose about code
        table[orth] = [orth]
    for unit in "CcFfKk":  # "20°C." at a sentence end
        table[f"°{unit}."] = ["°", unit, "."]
    for hour in range(1, 13):
        for period in ("a.m.", "am", "p.m.", "pm"):
            table[f"{hour}{period}"] = [str(hour), period]
    table.update({"nuff": ["nuff"], "em": ["em"], "ll": ["ll"]})
    return table


SPECIALS = special_cases()
