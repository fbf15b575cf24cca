"""The outbox retries with back-off, gives up into a visible failed state, and sends outside
the row lock under a claim (accounts.outbox).

Cheap on a large outbox: the new columns are added with a constant default ("sent", and no
`next_attempt_at`), which PostgreSQL records without rewriting the table; only the rows not
yet sent are then updated to "pending", due at once (`next_attempt_at` = their creation).
"""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def unsent_rows_wait(apps, schema_editor):
    OutboxMessage = apps.get_model("accounts", "OutboxMessage")
    OutboxMessage.objects.filter(sent_at__isnull=True).update(state="pending", next_attempt_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_deleted_at"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="outboxmessage",
            name="outbox_pending_idx",
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="claim",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting to be sent"),
                    ("sending", "Being sent"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                ],
                default="sent",
                max_length=8,
            ),
        ),
        migrations.RunPython(unsent_rows_wait, migrations.RunPython.noop),
        # From here on a new row is pending and due at once (Python-side defaults: no SQL).
        migrations.AlterField(
            model_name="outboxmessage",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, default=django.utils.timezone.now, null=True),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting to be sent"),
                    ("sending", "Being sent"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                ],
                default="pending",
                max_length=8,
            ),
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("next_attempt_at__isnull", False)),
                fields=["next_attempt_at"],
                name="outbox_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(condition=models.Q(("state", "failed")), fields=["failed_at"], name="outbox_failed_idx"),
        ),
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("next_attempt_at__isnull", False), ("state__in", ["pending", "sending"])),
                    models.Q(("next_attempt_at__isnull", True), ("state__in", ["sent", "failed"])),
                    _connector="OR",
                ),
                name="outbox_due_only_while_unsent",
            ),
        ),
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("claim__isnull", False), ("state", "sending")),
                    models.Q(("state", "sending"), _negated=True),
                    _connector="OR",
                ),
                name="outbox_sending_is_claimed",
            ),
        ),
    ]
