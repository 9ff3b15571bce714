"""Every string of the console has a Simplified Chinese translation; placeholders survive translation; the
language is the user's choice, then the browser's."""

import re

from vigil.api.i18n import LANGUAGES, extract_messages, pick_language, read_catalog, script_messages, translations

PLACEHOLDER = re.compile(r"%\(\w+\)s")


def test_every_console_string_is_translated_into_chinese() -> None:
    found = extract_messages()
    assert len(found) > 100, "the extraction found the templates' and scripts' strings"
    catalog = read_catalog("zh")
    missing = [
        f"{m!r} ({', '.join(where)})" for m, where in found.items() if not (catalog.get(m) and catalog.get(m).string)
    ]
    assert not missing, "untranslated (run tools/i18n.py and translate):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    for message in read_catalog("zh"):
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), message.id


def test_the_scripts_get_their_translations() -> None:
    zh = script_messages("zh")
    assert zh["Mark reviewed"] == "标记为已查看"
    assert script_messages("en")["Mark reviewed"] == "Mark reviewed"
    assert translations("zh").gettext("Log in") == "登录"


def test_language_choice() -> None:
    assert set(LANGUAGES) == {"en", "zh"}
    assert pick_language("zh", "en-GB") == "zh"
    assert pick_language(None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert pick_language(None, "fr-FR, en;q=0.5") == "en"
    assert pick_language("xx", "") == "en"


def test_script_strings_are_found_inside_template_literals_but_not_in_comments(tmp_path) -> None:
    from vigil.api.i18n import script_strings

    js = tmp_path / "x.js"
    js.write_text(
        '// t("a comment") is not a message\n'
        'const a = `${t("In a template")} ${n}`;\n'
        "const b = t('Single \\'quoted\\''), c = t(\"Two\\nlines\");\n"
    )
    assert list(script_strings(js)) == [(2, "In a template"), (3, "Single 'quoted'"), (3, "Two\nlines")]
