from django.core.management.base import BaseCommand, CommandError

from clients.services import RowStatus, clients_import


class Command(BaseCommand):
    help = (
        "Import clients from a CSV file (UTF-8; columns full_name, phone, then any of email, address_line, "
        "postal_code, city, country, preferred_language, time_zone, current_provider, segment, tags, "
        "do_not_call, marketing_consent, notes). All or nothing unless --skip-invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file")
        parser.add_argument("--skip-invalid", action="store_true", help="import the valid rows and report the others")

    def handle(self, *args, file, skip_invalid, verbosity, **options):
        self.verbosity = verbosity
        self.seen = 0
        try:
            with open(file, "rb") as handle:
                report = clients_import(handle, skip_invalid=skip_invalid, progress=self.progress)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        for error in report.file_errors:
            self.stderr.write(self.style.ERROR(error))
        summary = report.summary()
        if report.committed:
            self.stdout.write(self.style.SUCCESS(summary))
        else:
            raise CommandError(summary)

    def progress(self, row):
        """One line per row that is not a plain creation (or every row with -v 2), and a
        progress line every 10,000 rows."""
        self.seen += 1
        if row.status != RowStatus.CREATED or self.verbosity >= 2:
            text = f"line {row.line}: {row.status}"
            if row.messages:
                text += ": " + "; ".join(row.messages)
            style = self.style.ERROR if row.status == RowStatus.REJECTED else (lambda s: s)
            self.stdout.write(style(text))
        if self.seen % 10_000 == 0 and self.verbosity >= 1:
            self.stdout.write(f"… {self.seen} rows read")
