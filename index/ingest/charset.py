"""Bytes to text: a byte-order mark first, then the declared charset, UTF-8, and a detector.

A wrong guess is worse than a refusal: "Gdańsk" stored as "Gdañsk" is quoted, searched and
exported as garbage with nobody told. So a legacy file is decoded only when every equally clean
reading of it gives the same text; when they disagree (ISO-8859-2 Polish read as Windows-1252,
say) the file is refused with one line showing both readings and asking for UTF-8.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata

from index.errors import InputError

logger = logging.getLogger(__name__)

# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# The legacy charsets news files are saved in; the detector's exotic ones (Celtic ISO-8859-14,
# HP Roman-8, DOS code pages) only add wrong readings that look clean.
_LEGACY = [
    "cp1252", "cp1250", "iso8859_2", "iso8859_15", "cp1251", "koi8_r", "iso8859_5", "cp1253",
    "iso8859_7", "cp1254", "iso8859_9", "cp1257", "cp1255", "cp1256", "mac_roman", "shift_jis",
    "euc_jp", "gb18030", "big5", "euc_kr", "cp874",
]  # fmt: skip
_NAMES = {
    "cp1252": "Western, Windows-1252",
    "cp1250": "Central European, Windows-1250",
    "iso8859_2": "Central European, ISO-8859-2",
    "cp1257": "Baltic, Windows-1257",
}
# The letters beyond ASCII of languages commonly written in the legacy Latin code pages. A
# reading whose letters no single one of these alphabets holds ("crčme brűlée": Czech č with
# Hungarian ű) is a wrong code page even when its mess score is as clean as the right one's.
_ALPHABETS = tuple(
    frozenset(letters)
    for letters in (
        "àâæçéèêëîïôœùûüÿ",  # French
        "äöüß",  # German
        "áéíóúñü",  # Spanish
        "àèéìíîòóù",  # Italian
        "ãõâêôáéíóúàç",  # Portuguese
        "åäöæøéü",  # Nordic
        "áéíóöőúüű",  # Hungarian
        "ąćęłńóśźż",  # Polish
        "áčďéěíňóřšťúůýž",  # Czech
        "áäčďéíĺľňóôŕšťúýž",  # Slovak
        "čćđšž",  # Croatian, Slovenian, Bosnian
        "ăâîșşțţ",  # Romanian
        "çğıöşüâî",  # Turkish
        "āčēģīķļņōŗšūž",  # Latvian
        "ąčęėįšųūž",  # Lithuanian
        "äõöüšž",  # Estonian
        "áðéíóúýþæö",  # Icelandic
    )
)
_CHAOS_TIE = 0.01  # readings this close in the detector's mess score are equally clean
_WORD = re.compile(r"\S+")


def bom_encoding(data: bytes) -> str | None:
    """The codec a byte-order mark announces (it also strips the mark), or None."""
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


def decode_text(data: bytes, origin: str, declared: str | None = None) -> str:
    """A byte-order mark, else the declared charset, else UTF-8, else the one clean reading.

    A mark outranks a declaration (as in browsers): a page saved as UTF-16 keeps its old
    `<meta charset>`. InputError when the text is binary, damaged or its charset ambiguous.
    """
    bom = bom_encoding(data)
    if bom:
        try:
            return data.decode(bom)
        except UnicodeDecodeError as exc:
            raise InputError(f"{origin}: damaged {bom.upper()} text ({exc.reason})") from exc
    if b"\x00" in data[:8192]:
        raise InputError(f"{origin}: binary file, not text")
    for encoding in (declared, "utf-8"):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return _legacy(data, origin)


def _legacy(data: bytes, origin: str) -> str:
    from charset_normalizer import from_bytes

    readings = [(m.encoding, m.chaos, str(m)) for m in from_bytes(data, cp_isolation=_LEGACY)]
    if not readings:
        raise InputError(f"{origin}: not readable as text")
    cleanest = min(chaos for _, chaos, _ in readings)
    tied = [(name, text) for name, chaos, text in readings if chaos <= cleanest + _CHAOS_TIE]
    fewest = min(_symbols_in_words(text) for _, text in tied)
    tied = [(name, text) for name, text in tied if _symbols_in_words(text) == fewest]
    plausible = [(name, text) for name, text in tied if _one_alphabet(text)]
    if plausible and len({text for _, text in plausible}) == 1:
        tied = plausible
    first_name, first = tied[0]
    for name, text in tied[1:]:
        if text != first:
            raise InputError(f"{origin}: {_ambiguity(first_name, first, name, text)}")
    logger.info("%s: decoded as %s", origin, first_name)
    return first


def _one_alphabet(text: str) -> bool:
    """Whether the text's letters beyond ASCII all belong to one common Latin alphabet (a text
    in another script, or with none beyond ASCII, passes: this only tells Latin readings
    apart)."""
    letters = {ch for ch in text.lower() if ord(ch) > 127 and ch.isalpha()}
    latin = {ch for ch in letters if "LATIN" in unicodedata.name(ch, "")}
    return not latin or any(latin <= alphabet for alphabet in _ALPHABETS)


def _symbols_in_words(text: str) -> int:
    """Symbols and odd digits stuck to a letter ("Micha³", "pr±du"): the mark of a wrong code
    page, which the detector's mess score misses in a mostly-ASCII text.

    Punctuation such as the apostrophe in "don’t" does not count; only symbols and numbers.
    """
    count = 0
    for index, ch in enumerate(text):
        if ord(ch) < 128 or unicodedata.category(ch) not in ("No", "So", "Sm", "Sc", "Sk"):
            continue
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        count += before.isalpha() or after.isalpha()
    return count


def _ambiguity(name_a: str, text_a: str, name_b: str, text_b: str) -> str:
    """One line showing the first word the two readings disagree on."""
    for word_a, word_b in zip(_WORD.findall(text_a), _WORD.findall(text_b), strict=False):
        if word_a != word_b:
            break
    else:
        word_a, word_b = text_a[:40], text_b[:40]
    return (
        f"cannot tell the character encoding: '{word_a.strip('.,;:')}' "
        f"({_NAMES.get(name_a, name_a)}) or '{word_b.strip('.,;:')}' "
        f"({_NAMES.get(name_b, name_b)})? Save the file as UTF-8"
    )
