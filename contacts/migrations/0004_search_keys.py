# The search key columns (accounts.search), filled for the contacts there are, then required.

from django.db import migrations, models

from accounts.search import search_key


def write_search_keys(apps, schema_editor):
    # The historical model has none of Contact's own writing of the keys: the same composition
    # as contacts.models.search_keys, spelt out here as this migration saw it.
    Contact = apps.get_model("contacts", "Contact")
    rows = Contact.objects.using(schema_editor.connection.alias).only(
        "pk", "name", "organisation", "title", "email", "email_unusable"
    )
    batch = []
    for contact in rows.order_by("pk").iterator(chunk_size=2000):
        contact.search_text = "\n".join(search_key(v) for v in (contact.name, contact.organisation, contact.title))
        contact.search_organisation = search_key(contact.organisation)
        contact.search_email = search_key(contact.email or contact.email_unusable)
        batch.append(contact)
        if len(batch) == 500:
            Contact.objects.bulk_update(batch, ["search_text", "search_organisation", "search_email"])
            batch = []
    if batch:
        Contact.objects.bulk_update(batch, ["search_text", "search_organisation", "search_email"])


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0003_unusable_email_and_import_in_worker'),
    ]

    operations = [
        migrations.AddField(
            model_name='contact',
            name='search_text',
            field=models.TextField(blank=True, default='', editable=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='contact',
            name='search_organisation',
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name='contact',
            name='search_email',
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(write_search_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name='contact',
            constraint=models.CheckConstraint(condition=models.Q(('search_text', ''), _negated=True), name='contact_search_keys_written'),
        ),
    ]
