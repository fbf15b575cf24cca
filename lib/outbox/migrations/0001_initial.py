"""The outbox moved here from accounts, its table untouched.

OutboxMessage is created in the migration state only, on the table it has always had
(`accounts_outboxmessage`, with the same indexes and constraints): no SQL runs, so the rows
waiting to be sent stay where they are. accounts' 0007 then forgets the model, in the state
only too, once intros' foreign key to it points here. Its content type is renamed with it,
so permissions and admin history that name it follow.
"""

import django.utils.timezone
from django.db import migrations, models


def _move_content_type(apps, schema_editor, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    if not types.filter(app_label=new, model="outboxmessage").exists():
        types.filter(app_label=old, model="outboxmessage").update(app_label=new)


def content_type_to_outbox(apps, schema_editor):
    _move_content_type(apps, schema_editor, old="accounts", new="outbox")


def content_type_to_accounts(apps, schema_editor):
    _move_content_type(apps, schema_editor, old="outbox", new="accounts")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The table, as accounts made it (0001, 0003, 0005): this app's migrations come after.
        ("accounts", "0006_data_export"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("to", models.JSONField(default=list)),
                        ("cc", models.JSONField(blank=True, default=list)),
                        ("reply_to", models.JSONField(blank=True, default=list)),
                        ("subject", models.CharField(max_length=255)),
                        ("body_text", models.TextField(blank=True)),
                        ("body_html", models.TextField(blank=True)),
                        ("template", models.CharField(blank=True, max_length=100)),
                        ("context", models.JSONField(blank=True, default=dict)),
                        ("key", models.CharField(blank=True, max_length=200, null=True, unique=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "state",
                            models.CharField(
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
                        ("next_attempt_at", models.DateTimeField(blank=True, default=django.utils.timezone.now, null=True)),
                        ("claim", models.UUIDField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("failed_at", models.DateTimeField(blank=True, null=True)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                    ],
                    options={
                        "db_table": "accounts_outboxmessage",
                        "indexes": [
                            models.Index(
                                condition=models.Q(("next_attempt_at__isnull", False)),
                                fields=["next_attempt_at"],
                                name="outbox_due_idx",
                            ),
                            models.Index(
                                condition=models.Q(("state", "failed")), fields=["failed_at"], name="outbox_failed_idx"
                            ),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("next_attempt_at__isnull", False), ("state__in", ["pending", "sending"])),
                                    models.Q(("next_attempt_at__isnull", True), ("state__in", ["sent", "failed"])),
                                    _connector="OR",
                                ),
                                name="outbox_due_only_while_unsent",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("claim__isnull", False), ("state", "sending")),
                                    models.Q(("state", "sending"), _negated=True),
                                    _connector="OR",
                                ),
                                name="outbox_sending_is_claimed",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_outbox, content_type_to_accounts, elidable=True),
    ]
