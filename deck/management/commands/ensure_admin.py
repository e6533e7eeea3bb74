"""Make sure someone can log in to a fresh installation.

Creates the superuser `admin` once, when no superuser exists, with a random
password kept in the data folder (readable by its owner only) and printed,
so the zero-setup command ends with a usable login.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an initial superuser 'admin' if there is no superuser yet."

    def handle(self, *args, **options):
        users = get_user_model()
        path = settings.DATA_DIR / "admin_password"
        if users.objects.filter(is_superuser=True).exists():
            if path.exists():
                self.stdout.write(f"==> admin login: user admin, password in {path}")
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", "", password)
        path.write_text(password + "\n")
        path.chmod(0o600)
        self.stdout.write(
            f"==> created admin login: user admin, password {password} (kept in {path})"
        )
