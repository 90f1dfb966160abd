import sys

from django.core.management.base import BaseCommand

from dashboard.gen_data import main


class Command(BaseCommand):
    help = "Load realistic sample orders; the same program and flags as scripts/gen_data.py (see --help)."

    def run_from_argv(self, argv: list[str]) -> None:
        # gen_data parses its own flags and chooses its own exit codes (see --help).
        sys.exit(main(argv[2:]))
