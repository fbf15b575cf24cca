"""OutboxMessage now belongs to lib.outbox (its 0001), on the same table: accounts forgets it,
in the migration state only, so the table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_data_export"),
        ("outbox", "0001_initial"),
        # Nothing may still point at accounts.OutboxMessage when it goes.
        ("intros", "0010_last_ask_to_outbox_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OutboxMessage")],
            database_operations=[],
        ),
    ]
