from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="configversion",
            name="source",
            field=models.CharField(
                choices=[
                    ("admin", "admin"),
                    ("file", "file"),
                    ("api", "API"),
                    ("command", "command"),
                    ("rollback", "rollback"),
                    ("merge", "merged pull request"),
                ],
                max_length=16,
            ),
        ),
    ]
