from django.core.management.base import BaseCommand, CommandError

from hook.models import WebhookDelivery
from hook.services import delivery_replay


class Command(BaseCommand):
    help = (
        "Handle stored webhook deliveries again: by GUID, or every failed one. "
        "Plugins that already finished are skipped unless --all-plugins."
    )

    def add_arguments(self, parser):
        parser.add_argument("guids", nargs="*", help="X-GitHub-Delivery GUIDs")
        parser.add_argument(
            "--failed", action="store_true", help="every delivery whose handling failed"
        )
        parser.add_argument(
            "--all-plugins",
            action="store_true",
            help="run plugins that already finished again too",
        )

    def handle(self, *args, guids, failed, all_plugins, **options):
        if not guids and not failed:
            raise CommandError("name GUIDs, or use --failed")
        queryset = WebhookDelivery.objects.none()
        if guids:
            queryset = WebhookDelivery.objects.filter(guid__in=guids)
            missing = set(guids) - set(queryset.values_list("guid", flat=True))
            if missing:
                raise CommandError(
                    f"no delivery with GUID {', '.join(sorted(missing))}"
                )
        if failed:
            queryset = queryset | WebhookDelivery.objects.filter(
                status=WebhookDelivery.Status.FAILED
            )
        count = 0
        for delivery in queryset.iterator():
            delivery_replay(delivery, rerun_all=all_plugins)
            count += 1
        self.stdout.write(f"{count} deliveries queued to be handled again")
