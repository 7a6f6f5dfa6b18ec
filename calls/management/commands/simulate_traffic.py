"""Drive a running server like a PBX and a floor of agents, so the wallboard moves.

A real HTTP client: callers arrive as a Poisson process (--rate per second) and are sent as
signed telephony events; agents (tokens created for them here) poll their status, accept
what rings, talk for an exponential handle time, hang up (or the caller does), wrap up, and
now and then take a short break; callers who wait too long hang up. It stops by itself
after --duration seconds (plus a short drain) and talks to --url only: loopback unless
--allow-remote is given.
"""

import asyncio
import ipaddress
import json
import logging
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from calls.telephony import sign

DISPOSITIONS = ["resolved", "information", "sale", "complaint", "transferred", "follow-up"]


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Command(BaseCommand):
    help = "Send signed telephony events and drive agents through the API of a running server."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server (default %(default)s)")
        parser.add_argument("--rate", type=float, default=1.0, help="callers per second (Poisson)")
        parser.add_argument("--agents", type=int, default=10, help="demo agents to drive")
        parser.add_argument("--duration", type=float, default=60, help="seconds of arrivals")
        parser.add_argument("--queues", default="", help="comma-separated queue slugs (default: all active)")
        parser.add_argument("--handle-mean", type=float, default=20, help="mean talk time, s (exponential)")
        parser.add_argument("--wrap-up-mean", type=float, default=4, help="mean wrap-up time, s")
        parser.add_argument("--answer-mean", type=float, default=1.5, help="mean time to accept a ringing call, s")
        parser.add_argument("--patience-mean", type=float, default=45, help="mean caller patience, s")
        parser.add_argument("--drain", type=float, default=20, help="seconds to let calls finish after arrivals stop")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --url")

    def handle(self, *args, **options):
        url = options["url"].rstrip("/")
        if urlsplit(url).scheme not in ("http", "https"):
            raise CommandError("--url must be http:// or https://")
        if not options["allow_remote"] and not _is_loopback(url):
            raise CommandError(f"{url} is not a loopback address; pass --allow-remote to target it")
        if options["rate"] <= 0 or options["duration"] <= 0 or options["agents"] < 0:
            raise CommandError("--rate and --duration must be positive, --agents at least 0")
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is too much
        queues, agents = self._setup(options)
        self.stdout.write(
            f"Simulating {options['rate']}/s callers for {options['duration']:.0f}s on {', '.join(queues)} "
            f"with {len(agents)} agents against {url}"
        )
        stats = asyncio.run(Simulation(self, url, queues, agents, options).run())
        self.stdout.write(self.style.SUCCESS(stats))
        if "errors 0" not in stats:
            raise CommandError("the server answered some requests with an error (see above)")

    def _setup(self, options):
        from rest_framework.authtoken.models import Token

        from agents.models import AgentSkill
        from calls.models import Queue

        queues = Queue.objects.filter(is_active=True)
        if options["queues"]:
            slugs = [s.strip() for s in options["queues"].split(",") if s.strip()]
            missing = set(slugs) - set(queues.filter(slug__in=slugs).values_list("slug", flat=True))
            if missing:
                raise CommandError(f"unknown queue(s): {', '.join(sorted(missing))}")
            queues = queues.filter(slug__in=slugs)
        queues = list(queues)
        if not queues:
            raise CommandError("no active queue: run seed_demo first")
        from agents.models import Agent

        chosen = []
        for agent in Agent.objects.select_related("user").prefetch_related("languages").order_by("employee_number"):
            skills = set(AgentSkill.objects.filter(agent=agent).values_list("skill_id", flat=True))
            languages = {lang.code for lang in agent.languages.all()}
            if any(
                (q.required_skill_id is None or q.required_skill_id in skills)
                and (q.required_language_id is None or q.required_language_id in languages)
                for q in queues
            ):
                chosen.append((agent.user.username, Token.objects.get_or_create(user=agent.user)[0].key))
            if len(chosen) >= options["agents"]:
                break
        return [q.slug for q in queues], chosen


class Simulation:
    def __init__(self, command, url, queues, agents, options):
        self.command = command
        self.url = url
        self.queues = queues
        self.agents = agents
        self.o = options
        self.rng = random.Random(options["seed"])
        self.secret = settings.TELEPHONY_WEBHOOK_SECRET
        self.counts = dict.fromkeys(
            ("offered", "rung", "answered", "abandoned", "completed", "wrapped", "breaks", "errors"), 0
        )
        self.latencies: list[float] = []
        self.refused: dict[str, int] = {}
        self.answered: dict[str, asyncio.Event] = {}
        self.callers: list[asyncio.Task] = []
        self.arrivals_over = False

    async def run(self) -> str:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=self.url, timeout=15, limits=limits) as client:
            self.client = client
            deadline = time.monotonic() + self.o["duration"] + self.o["drain"] + 15
            tasks = [asyncio.create_task(self.agent(username, token, deadline)) for username, token in self.agents]
            progress = asyncio.create_task(self.progress())
            await self.arrivals()
            self.arrivals_over = True
            await asyncio.sleep(self.o["drain"])
            # Stop by itself: whatever is still going on is cut, then everyone signs out.
            for task in tasks + self.callers:
                task.cancel()
            await asyncio.gather(*tasks, *self.callers, return_exceptions=True)
            progress.cancel()
            # Callers still waiting hang up; agents finish what they hold and sign out.
            waiting = [call_id for call_id, answered in self.answered.items() if not answered.is_set()]
            await asyncio.gather(*[self.event("call.abandoned", c) for c in waiting], return_exceptions=True)
            await asyncio.gather(*[self.sign_out(token) for _u, token in self.agents], return_exceptions=True)
        return self.summary()

    def summary(self) -> str:
        c = self.counts
        p50 = statistics.median(self.latencies) * 1000 if self.latencies else 0
        p99 = sorted(self.latencies)[int(len(self.latencies) * 0.99) - 1] * 1000 if len(self.latencies) > 1 else p50
        return (
            f"offered {c['offered']}, rung {c['rung']}, answered {c['answered']}, abandoned {c['abandoned']}, "
            f"wrapped up {c['wrapped']}, breaks {c['breaks']}, errors {c['errors']}, accepts refused {self.refused or 0}; "
            f"event latency p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        )

    async def progress(self):
        while True:
            await asyncio.sleep(5)
            self.command.stdout.write("  " + self.summary())

    async def request(self, method, path, **kwargs):
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.counts["errors"] += 1
            self.command.stderr.write(f"  {method} {path}: {exc!r}")
            return None
        if response.status_code >= 500:
            self.counts["errors"] += 1
            self.command.stderr.write(f"  {method} {path}: {response.status_code}")
        return response

    async def event(self, kind, call_id, **fields):
        body = json.dumps(
            {
                "event_id": f"sim-{uuid.uuid4()}",
                "type": kind,
                "call_id": call_id,
                "occurred_at": datetime.now(UTC).isoformat(),
                **fields,
            }
        ).encode()
        started = time.perf_counter()
        response = await self.request(
            "POST",
            "/api/telephony/events/",
            content=body,
            headers={"Content-Type": "application/json", "X-Signature": sign(body, self.secret)},
        )
        self.latencies.append(time.perf_counter() - started)
        return response

    async def arrivals(self):
        end = time.monotonic() + self.o["duration"]
        while True:
            await asyncio.sleep(self.rng.expovariate(self.o["rate"]))
            if time.monotonic() >= end:
                break
            self.callers.append(asyncio.create_task(self.caller()))

    async def caller(self):
        call_id = f"sim-{uuid.uuid4().hex[:12]}"
        answered = self.answered[call_id] = asyncio.Event()
        number = f"+336{self.rng.randint(10, 68)}{self.rng.randint(0, 999_999):06d}"  # allocated mobile ranges
        response = await self.event(
            "call.offered", call_id, queue=self.rng.choice(self.queues), caller=number, direction="inbound"
        )
        if response is None or response.status_code != 200:
            return
        self.counts["offered"] += 1
        try:
            await asyncio.wait_for(answered.wait(), timeout=self.rng.expovariate(1 / self.o["patience_mean"]))
        except TimeoutError:
            answer = await self.event("call.abandoned", call_id)
            if answer is not None and answer.status_code == 200 and answer.json().get("result") == "applied":
                self.counts["abandoned"] += 1

    async def agent(self, username, token, deadline):
        headers = {"Authorization": f"Token {token}"}
        await self.request("POST", "/api/agents/me/status/", json={"status": "available"}, headers=headers)
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            response = await self.request("GET", "/api/agents/me/status/", headers=headers)
            if response is None or response.status_code != 200:
                continue
            presence = response.json()
            if presence["state"] == "reserved" and presence["call"]:
                await self.take(presence["call"], headers)
            elif presence["state"] in ("break", "offline") and not self.arrivals_over:
                await self.request("POST", "/api/agents/me/status/", json={"status": "available"}, headers=headers)
            elif presence["state"] == "available" and self.rng.random() < 0.01:
                self.counts["breaks"] += 1
                await self.request(
                    "POST", "/api/agents/me/status/", json={"status": "break", "reason": "coaching"}, headers=headers
                )
                await asyncio.sleep(self.rng.uniform(5, 15))
                await self.request("POST", "/api/agents/me/status/", json={"status": "available"}, headers=headers)

    async def take(self, call_pk, headers):
        self.counts["rung"] += 1
        await asyncio.sleep(self.rng.expovariate(1 / self.o["answer_mean"]))
        accepted = await self.request("POST", f"/api/calls/{call_pk}/accept/", headers=headers)
        if accepted is None or accepted.status_code != 200:
            # The caller hung up meanwhile, or the offer rang out: counted, with the reason.
            if accepted is not None:
                reason = f"{accepted.status_code} {accepted.json().get('code', '')}"
                self.refused[reason] = self.refused.get(reason, 0) + 1
            return
        call_id = accepted.json()["call_id"]
        if call_id in self.answered:
            self.answered[call_id].set()
        self.counts["answered"] += 1
        await self.event("call.answered", call_id)  # the PBX bridges them: already in progress, unchanged
        await asyncio.sleep(self.rng.expovariate(1 / self.o["handle_mean"]))
        if self.rng.random() < 0.5:
            reason = "dropped" if self.rng.random() < 0.03 else "completed"
            await self.event("call.ended", call_id, reason=reason)  # the caller hangs up
        else:
            await self.request("POST", f"/api/calls/{call_pk}/end/", json={"reason": "completed"}, headers=headers)
        self.counts["completed"] += 1
        await asyncio.sleep(self.rng.expovariate(1 / self.o["wrap_up_mean"]))
        done = await self.request(
            "POST",
            f"/api/calls/{call_pk}/wrap-up/",
            json={"disposition": self.rng.choice(DISPOSITIONS), "notes": "simulated"},
            headers=headers,
        )
        if done is not None and done.status_code == 200:
            self.counts["wrapped"] += 1

    async def sign_out(self, token):
        """Finish what the agent holds (end, wrap up; decline what rings), then sign out."""
        headers = {"Authorization": f"Token {token}"}
        for _ in range(6):
            response = await self.request("GET", "/api/agents/me/status/", headers=headers)
            if response is None or response.status_code != 200:
                return
            presence = response.json()
            if presence["state"] == "on_call":
                await self.request("POST", f"/api/calls/{presence['call']}/end/", json={}, headers=headers)
            elif presence["state"] == "wrap_up":
                await self.request(
                    "POST", f"/api/calls/{presence['call']}/wrap-up/", json={"disposition": "resolved"}, headers=headers
                )
            elif presence["state"] != "offline":
                await self.request("POST", "/api/agents/me/status/", json={"status": "offline"}, headers=headers)
            else:
                return
