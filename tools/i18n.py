"""Extract the console's strings and update the message catalogs (``src/vigil/web/locale``).

    .venv/bin/python tools/i18n.py            # update messages.po of every language, keeping translations
    .venv/bin/python tools/i18n.py --check    # exit 1 if a string has no translation (what the test checks)

New strings come in untranslated; strings no longer used are dropped. Translate in the .po file itself.
"""

from __future__ import annotations

import argparse
import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from vigil.api.i18n import BABEL_LOCALE, DEFAULT_LANGUAGE, LANGUAGES, extract_messages, po_path, read_catalog


def update(language: str, found: dict[str, list[str]]) -> list[str]:
    """Rewrite one language's catalog with exactly the strings found; returns the untranslated ones."""
    old = read_catalog(language) if po_path(language).is_file() else Catalog(locale=BABEL_LOCALE[language])
    new = Catalog(locale=BABEL_LOCALE[language], project="Vigil", domain="messages")
    missing = []
    for msgid in sorted(found):
        previous = old.get(msgid)
        text = previous.string if previous is not None and isinstance(previous.string, str) else ""
        new.add(msgid, text, locations=[(loc.rsplit(":", 1)[0], int(loc.rsplit(":", 1)[1])) for loc in found[msgid]])
        if not text:
            missing.append(msgid)
    po_path(language).parent.mkdir(parents=True, exist_ok=True)
    with po_path(language).open("wb") as f:
        write_po(f, new, width=120, omit_header=False, sort_output=True)
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report untranslated strings")
    args = parser.parse_args()
    found = extract_messages()
    status = 0
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        if args.check:
            catalog = read_catalog(language)
            missing = [m for m in found if not (catalog.get(m) and catalog.get(m).string)]  # type: ignore[union-attr]
        else:
            missing = update(language, found)
        for msgid in missing:
            print(f"{language}: untranslated: {msgid!r} ({', '.join(found[msgid])})")
        status |= bool(missing)
    print(f"{len(found)} strings")
    return status


if __name__ == "__main__":
    sys.exit(main())
