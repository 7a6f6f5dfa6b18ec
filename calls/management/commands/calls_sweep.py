"""The periodic work of the calls app, for a server without Celery beat.

With REDIS_URL set, beat runs calls.sweep every 5 s. In the single-process mode there is no
beat: the API runs the sweep opportunistically (at most every CALLS_SWEEP_INTERVAL_S) on
telephony events and agent actions, and this command keeps it going when the floor is quiet:
`python manage.py calls_sweep --every 5` next to the server.
"""

import time

from django.core.management.base import BaseCommand

from calls import services


class Command(BaseCommand):
    help = "Dispatch due callbacks, expire unanswered reservations and overdue wrap-ups (once, or --every N s)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="repeat every N seconds until stopped")

    def handle(self, *args, **options):
        while True:
            result = services.calls_sweep()
            if options["verbosity"] > 1 or not options["every"]:
                self.stdout.write(
                    f"callbacks dispatched {result['callbacks_dispatched']}, calls routed {result['calls_routed']}"
                )
            if not options["every"]:
                return
            time.sleep(options["every"])
