"""The Spanish and English catalogues: complete, in step with the code, and used by the UI.

The msgids are Spanish (the source language): `es` translates each one to itself, `en` to English.
When a test here fails because the code has strings the catalogues lack, regenerate and translate:

    python manage.py makemessages -l es -l en --no-location \\
        --ignore=.venv --ignore=node_modules --ignore=data --ignore=.uv

then fill every new `msgstr` in atiende/locale/{es,en}/LC_MESSAGES/django.po (no fuzzy entries,
no `#~` obsolete ones) and `make messages`.
"""

import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

LANGUAGES = ("es", "en")
LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
ROOT = Path(settings.BASE_DIR)
MAKEMESSAGES_IGNORE = [".venv", "node_modules", "data", ".uv"]
SOURCE_SUFFIXES = {".py", ".html", ".txt"}  # what makemessages reads for the "django" domain
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]")

WEEKDAYS_EN = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
MONTHS_EN = "January|February|March|April|May|June|July|August|September|October|November|December"
WEEKDAYS_ES = "Lunes|Martes|Miércoles|Jueves|Viernes|Sábado|Domingo"
MONTHS_ES = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
)


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))


def entry_key(entry: polib.POEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def describe(keys) -> str:
    return "\n".join(
        f"  {msgctxt + ' | ' if msgctxt else ''}{msgid!r}" for msgctxt, msgid, _ in keys
    )


def nplurals(po: polib.POFile) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    assert match, "the catalogue header has no Plural-Forms"
    return int(match.group(1))


def forms_of(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


# --- (1) every entry translated ------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete(language):
    po = catalogue(language)
    assert len(po) > 0
    assert po.metadata.get("Language") == language
    assert not po.metadata_is_fuzzy, "the header is still marked fuzzy"
    assert po.metadata.get("Content-Type") == "text/plain; charset=UTF-8"

    untranslated = [entry_key(e) for e in po.untranslated_entries()]
    fuzzy = [entry_key(e) for e in po.fuzzy_entries()]
    obsolete = [entry_key(e) for e in po.obsolete_entries()]
    assert not untranslated, f"{language}: untranslated entries:\n{describe(untranslated)}"
    assert not fuzzy, f"{language}: fuzzy entries:\n{describe(fuzzy)}"
    assert not obsolete, f"{language}: obsolete (#~) entries:\n{describe(obsolete)}"

    forms = nplurals(po)
    for entry in po:
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == forms, f"{entry.msgid!r} needs {forms} plural forms"
        for text in forms_of(entry):
            assert text.strip(), f"{language}: empty translation for {entry.msgid!r}"
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(entry.msgid)), (
                f"{language}: placeholders differ in {entry.msgid!r} → {text!r}"
            )


def test_spanish_catalogue_is_the_source_text():
    """Spanish is the language of the msgids: its catalogue must not reword them."""
    for entry in catalogue("es"):
        if entry.msgid_plural:
            expected = [entry.msgid] + [entry.msgid_plural] * (len(entry.msgstr_plural) - 1)
            assert forms_of(entry) == expected, entry.msgid
        else:
            assert entry.msgstr == entry.msgid


def test_both_catalogues_have_the_same_entries():
    keys = {language: {entry_key(e) for e in catalogue(language)} for language in LANGUAGES}
    assert keys["es"] == keys["en"], describe(keys["es"] ^ keys["en"])


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_passes_msgfmt_check(language):
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(po_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- (2) the catalogues match the strings in the code ------------------------------------


def source_files() -> list[Path]:
    """The files makemessages reads: those under version control (what CI checks out), else all."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        paths = [Path(name) for name in listed.split("\0") if name]
    else:
        paths = [
            path.relative_to(ROOT)
            for path in ROOT.rglob("*")
            if not set(path.relative_to(ROOT).parts) & set(MAKEMESSAGES_IGNORE)
        ]
    return [p for p in paths if p.suffix in SOURCE_SUFFIXES and (ROOT / p).is_file()]


@pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in GETTEXT_TOOLS),
    reason="GNU gettext (xgettext) is not installed",
)
def test_makemessages_finds_nothing_new(tmp_path, monkeypatch, settings):
    """Re-extract the strings into a copy of the tree: none may be missing nor left over."""
    work = tmp_path / "src"
    for relative in source_files():
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target)
    locale_copy = work / LOCALE_DIR.relative_to(ROOT)
    for language in LANGUAGES:
        po_dir = locale_copy / language / "LC_MESSAGES"
        po_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(LOCALE_DIR / language / "LC_MESSAGES" / "django.po", po_dir / "django.po")

    monkeypatch.chdir(work)
    settings.LOCALE_PATHS = [locale_copy]
    call_command(
        "makemessages",
        locale=list(LANGUAGES),
        no_location=True,
        ignore_patterns=MAKEMESSAGES_IGNORE,
        verbosity=0,
        stdout=StringIO(),
        stderr=StringIO(),
    )

    for language in LANGUAGES:
        committed = {entry_key(e) for e in catalogue(language) if not e.obsolete}
        fresh_po = polib.pofile(str(locale_copy / language / "LC_MESSAGES" / "django.po"))
        fresh = {entry_key(e) for e in fresh_po if not e.obsolete}
        missing = sorted(fresh - committed)
        stale = sorted(committed - fresh)
        assert not missing, (
            f"{language}: strings in the code are missing from the catalogue "
            f"(see this module's docstring):\n{describe(missing)}"
        )
        assert not stale, (
            f"{language}: the catalogue has strings the code no longer uses:\n{describe(stale)}"
        )


# --- (3) and (4) the language the UI speaks ----------------------------------------------


def test_user_switches_to_english_and_back(client, agent):
    client.force_login(agent)
    home = reverse("core:home")

    page = client.get(home)
    html = page.content.decode()
    assert page["Content-Language"] == "es"
    assert '<html lang="es"' in html
    assert "Hola, María González" in html
    assert "Mi estado" in html
    assert re.search(rf"({WEEKDAYS_ES}) \d{{1,2}} de ({MONTHS_ES})<", html)

    page = client.post(reverse("users:set_language"), {"language": "en", "next": home}, follow=True)
    html = page.content.decode()
    assert page.redirect_chain == [(home, 302)]
    assert page["Content-Language"] == "en"
    assert '<html lang="en"' in html
    assert "Hello, María González" in html
    assert "My status" in html
    assert "My teams" in html
    assert "Log out" in html
    assert ">Offline<" in html  # the agent's status, a model choice
    assert re.search(rf"({WEEKDAYS_EN}), ({MONTHS_EN}) \d{{1,2}}<", html)
    assert "Mi estado" not in html
    assert "Cerrar sesión" not in html
    agent.refresh_from_db()
    assert agent.language == "en"

    page = client.post(reverse("users:set_language"), {"language": "es", "next": home}, follow=True)
    html = page.content.decode()
    assert page["Content-Language"] == "es"
    assert '<html lang="es"' in html
    assert "Hola, María González" in html
    assert "Mi estado" in html
    assert "Cerrar sesión" in html
    assert "My status" not in html
    agent.refresh_from_db()
    assert agent.language == "es"


def test_english_settings_pages(client, admin_user):
    """Form labels, model choices and service errors come from the catalogue too."""
    from atiende.users.tests.factories import TeamFactory

    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)

    html = client.get(reverse("users:create")).content.decode()
    assert "New user" in html
    assert "Display name" in html
    assert "Administrator" in html
    assert "Nuevo usuario" not in html

    TeamFactory(name="Cobranza")
    page = client.post(reverse("users:team_create"), {"name": "cobranza", "description": ""})
    assert page.status_code == 200
    assert "A team with that name already exists." in page.content.decode()


@pytest.mark.django_db
def test_anonymous_visitor_gets_spanish_whatever_the_browser_asks(client):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = page.content.decode()
    assert page.status_code == 200
    assert page["Content-Language"] == "es"
    assert '<html lang="es"' in html
    assert "Ingresar" in html
    assert "Contraseña" in html
    assert "Log in" not in html
    assert "Password" not in html


@pytest.mark.django_db
def test_anonymous_visitor_who_chose_english_gets_english_login(client):
    login = reverse("login")
    client.post(reverse("users:set_language"), {"language": "en", "next": login})
    html = client.get(login).content.decode()
    assert '<html lang="en"' in html
    assert "Log in" in html
    assert "Password" in html
    assert "Contraseña" not in html


def test_lockout_message_agrees_with_the_number_of_minutes():
    from atiende.users.forms import ThrottledAuthenticationForm

    message = ThrottledAuthenticationForm.error_messages["locked"]
    with translation.override("en"):
        assert "wait 1 minute before" in message % {"minutes": 1}
        assert "wait 15 minutes before" in message % {"minutes": 15}
    with translation.override("es"):
        assert "espera 1 minuto antes" in message % {"minutes": 1}
        assert "espera 15 minutos antes" in message % {"minutes": 15}
