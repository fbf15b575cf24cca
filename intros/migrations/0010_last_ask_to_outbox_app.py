"""last_ask points at the outbox's new app (lib.outbox). The table it points at is the same,
so the foreign key in the database is left as it is: state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intros", "0009_why_now_one_open_request"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="introrequest",
                    name="last_ask",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="outbox.outboxmessage",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
