"""The desk's and the wallboard's WebSockets: authorise on connect, join groups, forward.

Pushes come from calls/realtime.py (services → on_commit → group_send). Every message a
consumer sends has a `type` and a `seq` that grows by one per message on this socket, so
a client that sees a gap (or reconnects) asks for {"type": "sync"} and gets the whole
state again. Queue status messages also keep their per-queue `seq` (realtime.next_seq) as
`queue_seq`. The ORM is reached only through the small database_sync_to_async helpers.
"""

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ObjectDoesNotExist

from contactcenter.errors import ApplicationError

from . import realtime, selectors, services


@database_sync_to_async
def _agent_and_groups(user):
    """The user's agent profile and the groups its desk listens to, or (None, [])."""
    if not user.is_authenticated:
        return None, []
    try:
        agent = user.agent
    except ObjectDoesNotExist:
        return None, []
    groups = [realtime.agent_group(agent.pk)]
    groups += [realtime.queue_group(pk) for pk in selectors.queues_for_user(user=user).values_list("pk", flat=True)]
    if agent.team_id:
        groups.append(realtime.team_group(agent.team_id))
    return agent, groups


@database_sync_to_async
def _desk_state(agent):
    return selectors.desk_state(agent=agent)


@database_sync_to_async
def _mark_read(agent, announcement_id):
    services.announcement_mark_read(agent=agent, announcement_id=announcement_id)


@database_sync_to_async
def _floor_groups(user):
    """The groups a wallboard listens to, or None for users who may not watch the floor."""
    if not selectors.can_watch_floor(user):
        return None
    groups = [realtime.supervisor_group(user.pk)]
    groups += [
        realtime.queue_group(pk) for pk in selectors.floor_queues_for_user(user=user).values_list("pk", flat=True)
    ]
    groups += [
        realtime.agent_group(pk) for pk in selectors.floor_agents_for_user(user=user).values_list("pk", flat=True)
    ]
    return groups


@database_sync_to_async
def _wallboard(user):
    return selectors.wallboard_for_user(user=user)


class _ForwardingConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]

    async def dispatch(self, message):
        """Channels' dispatch without its hop to a worker thread to close stale database
        connections before every message. A push is forwarded without the database, and every
        database access of these consumers goes through database_sync_to_async, which closes
        them in its own thread, before and after. With 500 desks that hop was a fifth of a
        server process's time (bench/realtime)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def join(self, groups):
        self.groups_joined = groups
        self.seq = 0
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def forward(self, message: dict):
        self.seq += 1
        out = dict(message)
        if "seq" in out:  # the queue's own sequence number, kept for per-queue gap checks
            out["queue_seq"] = out.pop("seq")
        out["seq"] = self.seq
        await self.send_json(out)

    # Channels maps a message's "type" (dots → underscores) to these handlers.
    async def queue_status(self, message):
        await self.forward(message)

    async def call_escalated(self, message):
        await self.forward(message)

    async def callback_updated(self, message):
        await self.forward(message)

    async def presence_updated(self, message):
        await self.forward(message)

    async def call_offered(self, message):
        await self.forward(message)

    async def call_updated(self, message):
        await self.forward(message)

    async def call_withdrawn(self, message):
        await self.forward(message)

    async def socket_drop(self, message):
        """Closes this socket (operators, and the browser test of reconnection)."""
        await self.close(code=4000)


class DeskConsumer(_ForwardingConsumer):
    """/ws/desk/: one agent's desk. Only a signed-in user with an agent profile; it hears
    its own agent group (offers, its presence), its team's queues and announcements."""

    async def connect(self):
        user = self.scope.get("user")
        agent, groups = await _agent_and_groups(user) if user is not None else (None, [])
        if agent is None:
            await self.close(code=4403)
            return
        self.agent = agent
        await self.join(groups)
        await self.accept()

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "sync":
            await self.send_sync()
        elif kind == "announcement.read":
            try:
                await _mark_read(self.agent, int(content.get("id")))
            except (ApplicationError, TypeError, ValueError):
                await self.send_json({"type": "error", "detail": "No such announcement."})
        else:
            await self.send_json({"type": "error", "detail": "Unknown message type."})

    async def send_sync(self):
        self.seq += 1
        await self.send_json({"type": "sync", "seq": self.seq, "state": await _desk_state(self.agent)})

    # An agent's desk ignores escalations of its queues (they are for supervisors).
    async def call_escalated(self, message):
        return

    async def announcement_posted(self, message):
        await self.forward(message)

    async def notification(self, message):
        """Scheduling's notices (a shift changed, a day off decided) to the agent's desk."""
        await self.forward(message)


class WallboardConsumer(_ForwardingConsumer):
    """/ws/wallboard/: a supervisor's (their teams' queues and agents) or a manager's
    (everything) wallboard and dashboard."""

    async def connect(self):
        user = self.scope.get("user")
        groups = await _floor_groups(user) if user is not None and user.is_authenticated else None
        if groups is None:
            await self.close(code=4403)
            return
        self.user = user
        await self.join(groups)
        await self.accept()

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "sync":
            self.seq += 1
            await self.send_json({"type": "sync", "seq": self.seq, "state": await _wallboard(self.user)})
        else:
            await self.send_json({"type": "error", "detail": "Unknown message type."})

    async def announcement_read(self, message):
        await self.forward(message)

    async def notification(self, message):
        return  # an agent's personal notices are not for the wallboard
