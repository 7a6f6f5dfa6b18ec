import importlib

from django.core.management.base import BaseCommand

# Each app that has demo data exposes demo.seed(stdout=...); they run in this order
# because later apps build on earlier ones (calls need agents, orders need clients).
DEMO_APPS = ["agents", "calls", "clients", "orders", "qa", "scheduling"]


class Command(BaseCommand):
    help = "Create or refresh the demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        logins = {}
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            self.stdout.write(f"Seeding {app}…")
            logins.update(module.seed(stdout=self.stdout) or {})
        from agents.demo import DEMO_PASSWORD

        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Logins (password “{DEMO_PASSWORD}” for all):"))
        for username, role in logins.items():
            self.stdout.write(f"  {username:<16} {role}")
