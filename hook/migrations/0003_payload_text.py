"""Payloads kept as the text GitHub sent instead of jsonb: PostgreSQL no
longer parses every webhook body on the way in (hook.models.JSONText).
Existing rows are converted with a cast, so they stay readable; changing a
column's type rewrites it, so lz4 compression (0002) is set again."""

from django.db import migrations

import hook.models


def use_lz4(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
            "AND 'lz4' = ANY(enumvals)"
        )
        if cursor.fetchone() is None:
            return
        cursor.execute(
            "ALTER TABLE hook_webhookdelivery ALTER COLUMN payload SET COMPRESSION lz4"
        )


class Migration(migrations.Migration):
    dependencies = [("hook", "0002_payload_lz4")]
    operations = [
        migrations.AlterField(
            model_name="webhookdelivery",
            name="payload",
            field=hook.models.JSONText(),
        ),
        migrations.RunPython(use_lz4, migrations.RunPython.noop, elidable=True),
    ]
