"""English and French ship together: every string marked for translation in the code and the
templates has its French translation in the committed catalogs.

Each catalog is extracted again (makemessages, as `make messages` does) in a copy of its
sources, so a string added or changed without updating the catalog shows up here as
untranslated or fuzzy, not as English on a French page."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["agents", "calls", "clients", "orders", "qa", "scheduling"]
# The project catalog (locale/): the layout's templates and the project package.
PROJECT_SOURCES = ["contactcenter", "templates", "locale"]


def _entries(po_text: str) -> list[dict]:
    """The catalog's live entries (not the header, not obsolete ones): msgid, flags, msgstrs."""
    entries = []
    for block in po_text.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        msgid, flags, msgstrs, current = None, set(), [], None
        for line in lines:
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("msgid "):
                msgid, current = line[len("msgid ") :].strip('"'), "msgid"
            elif line.startswith("msgstr"):
                msgstrs.append(line.split(" ", 1)[1].strip('"'))
                current = "msgstr"
            elif line.startswith('"'):
                if current == "msgid":
                    msgid += line.strip('"')
                elif current == "msgstr":
                    msgstrs[-1] += line.strip('"')
        if msgid:  # the header has an empty msgid
            entries.append({"msgid": msgid, "fuzzy": "fuzzy" in flags, "msgstrs": msgstrs})
    return entries


def _gaps(po_text: str) -> list[str]:
    return [
        entry["msgid"]
        for entry in _entries(po_text)
        if entry["fuzzy"] or not entry["msgstrs"] or not all(entry["msgstrs"])
    ]


def _extract_again(workdir: Path) -> str:
    assert shutil.which("xgettext"), "GNU gettext not found (apt-get install gettext): makemessages needs it"
    subprocess.run(  # noqa: S603 -- Django's own command on a copy of the sources
        [sys.executable, "-P", "-m", "django", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=workdir,
        check=True,
        capture_output=True,
        # Without the project's settings: makemessages would also write to their LOCALE_PATHS.
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    return (workdir / "locale/fr/LC_MESSAGES/django.po").read_text(encoding="utf-8")


def _copy(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "tests"))


def test_the_parser_sees_untranslated_fuzzy_and_multiline_entries():
    po = """msgid ""
msgstr ""
"Language: fr\\n"

#: a.py:1
msgid "Call"
msgstr "Appel"

#: a.py:2
msgid "Queue"
msgstr ""

#: a.py:3
#, fuzzy, python-format
msgid "%(n)s calls"
msgstr "%(n)s appels"

#: a.py:4
msgid ""
"A long "
"sentence"
msgstr ""
"Une longue "
"phrase"

#: a.py:5
msgid "agent"
msgid_plural "agents"
msgstr[0] "agent"
msgstr[1] ""

#~ msgid "gone"
#~ msgstr ""
"""
    assert _gaps(po) == ["Queue", "%(n)s calls", "agent"]


@pytest.mark.parametrize("app", APPS)
def test_every_string_of_the_app_has_its_french_translation(app, tmp_path):
    _copy(ROOT / app, tmp_path / app)
    assert _gaps(_extract_again(tmp_path / app)) == []


def test_every_string_of_the_layout_and_the_project_has_its_french_translation(tmp_path):
    for name in PROJECT_SOURCES:
        _copy(ROOT / name, tmp_path / name)
    assert _gaps(_extract_again(tmp_path)) == []
