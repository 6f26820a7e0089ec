"""`atiende web | worker | run | <any manage.py command>`: the console script of the package."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atiende.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["atiende", *sys.argv[1:]])
