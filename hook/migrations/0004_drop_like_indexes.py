"""Drop the varchar_pattern_ops indexes PostgreSQL got beside guid's and
event's own: they serve only LIKE 'prefix%', which nothing runs (lookups
are by equality; the admin's search is a contains), and every stored
webhook paid to update them."""

from django.db import migrations

COLUMNS = ("guid", "event")
TABLE = "hook_webhookdelivery"


def _like_indexes(schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return []
    return [
        schema_editor._create_index_name(TABLE, [column], suffix="_like")
        for column in COLUMNS
    ]


def drop(apps, schema_editor):
    for name in _like_indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create(apps, schema_editor):
    for column, name in zip(COLUMNS, _like_indexes(schema_editor), strict=False):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} "
            f"ON {TABLE} ({column} varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("hook", "0003_payload_text")]
    operations = [migrations.RunPython(drop, create)]
