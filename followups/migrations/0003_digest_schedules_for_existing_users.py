import datetime as dt
import zoneinfo

from django.db import migrations


def schedule_existing(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    DigestSchedule = apps.get_model("followups", "DigestSchedule")
    now = dt.datetime.now(dt.UTC)
    rows = []
    for user in User.objects.all().iterator():
        zone = zoneinfo.ZoneInfo(user.time_zone)
        local = now.astimezone(zone)
        at = dt.datetime.combine(local.date(), dt.time(user.digest_hour)).replace(tzinfo=zone)
        if at <= now:
            at = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(user.digest_hour)).replace(
                tzinfo=zone
            )
        rows.append(DigestSchedule(user_id=user.pk, kind="daily", next_at=at.astimezone(dt.UTC)))
    DigestSchedule.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("followups", "0002_outreach_offers_reminders"), ("accounts", "0001_initial")]

    operations = [migrations.RunPython(schedule_existing, migrations.RunPython.noop)]
