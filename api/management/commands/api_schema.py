from django.core.management.base import BaseCommand, CommandError

from api.schema import PATH, schema_text


class Command(BaseCommand):
    help = "Write the API's OpenAPI schema to api/openapi.json (--check: only say whether it is current)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Fail if api/openapi.json differs; write nothing.")

    def handle(self, *args, check: bool = False, **options):
        text = schema_text()
        current = PATH.read_text() if PATH.exists() else ""
        if check:
            if current != text:
                raise CommandError("api/openapi.json is out of date: run `make api-schema` and commit it.")
            self.stdout.write("api/openapi.json is current.")
            return
        PATH.write_text(text)
        self.stdout.write(f"Wrote {PATH.name} ({len(text):,} characters).")
