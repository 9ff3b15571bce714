"""The console's languages: English (the message ids themselves) and Simplified Chinese.

Every string a person reads goes through a message catalog: ``_("...")`` in the templates (Jinja2's i18n
extension) and ``t("...")`` in the JavaScript modules (the page carries the translations those modules use).
The catalogs are gettext ``.po`` files under ``web/locale``, compiled in memory by Babel at start-up (no
compiled ``.mo`` file is kept in the repository). ``tools/i18n.py`` extracts the strings and updates the
catalogs; a test fails when a string has no Chinese translation.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

WEB = Path(__file__).resolve().parent.parent / "web"
PAGES_MODULE = Path(__file__).resolve().parent / "pages.py"
LOCALE_DIR = WEB / "locale"
DOMAIN = "messages"
LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"
BABEL_LOCALE = {"en": "en", "zh": "zh_Hans_CN"}
HTML_LANG = {"en": "en", "zh": "zh-CN"}


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as f:
        return read_po(f, locale=BABEL_LOCALE[language])


@cache
def translations(language: str) -> NullTranslations:
    """The gettext translations of a language (English: the ids as they are)."""
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES or not po_path(language).is_file():
        return NullTranslations()
    buf = io.BytesIO()
    write_mo(buf, read_catalog(language))
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def pick_language(wanted: str | None, accept_language: str = "") -> str:
    """The user's own choice when they have one, else the browser's first language we have."""
    if wanted in LANGUAGES:
        return wanted
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in LANGUAGES:
            return tag[:2]
    return DEFAULT_LANGUAGE


# --- extraction (tools/i18n.py and the test) ----------------------------------------------------------------
def source_files() -> Iterator[tuple[Path, str]]:
    """The files strings are extracted from, with the Babel method for each."""
    for path in sorted((WEB / "templates").glob("*.html")):
        yield path, "jinja2.ext:babel_extract"
    for path in sorted((WEB / "static").glob("*.js")):
        yield path, "javascript"
    yield PAGES_MODULE, "python"  # the navigation's labels, marked N_("...")


_SCRIPT_CALL = re.compile(r"""\bt\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")


def script_strings(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, message)`` of every ``t("...")`` in a JavaScript module, wherever it stands (Babel's JavaScript
    lexer misses calls inside template literals, so a plain pattern is used: messages are string literals)."""
    text = path.read_text(encoding="utf-8")
    for match in _SCRIPT_CALL.finditer(text):
        if "//" in text[text.rfind("\n", 0, match.start()) + 1 : match.start()]:
            continue  # in a comment
        message = ast.literal_eval(match.group(1))
        if isinstance(message, str) and message:
            yield text.count("\n", 0, match.start()) + 1, message


def extract_messages() -> dict[str, list[str]]:
    """Every message id in the console's sources, with where it is used (``file:line``)."""
    found: dict[str, list[str]] = {}
    for path, method in source_files():
        where = str(path.relative_to(WEB)) if path.is_relative_to(WEB) else f"api/{path.name}"
        if method == "javascript":
            for lineno, msgid in script_strings(path):
                found.setdefault(msgid, []).append(f"{where}:{lineno}")
            continue
        keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
        for lineno, message, _comments, _context in extract_from_file(
            method, str(path), keywords=keywords, options={"extensions": "jinja2.ext.i18n"}
        ):
            ids = message if isinstance(message, tuple) else (message,)
            for msgid in ids:
                if msgid:
                    found.setdefault(msgid, []).append(f"{where}:{lineno}")
    return found


@cache
def script_messages(language: str) -> dict[str, str]:
    """The translations the JavaScript modules use (``t("...")``), for the page to carry."""
    trans = translations(language)
    return {
        message: trans.gettext(message)
        for path, method in source_files()
        if method == "javascript"
        for _line, message in script_strings(path)
    }
