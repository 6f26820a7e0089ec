"""The agent's socket: one per open tab, carries every realtime event and keeps presence."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from atiende.core.realtime import EVENT_TYPE, SUPERVISORS_GROUP, team_group, user_group
from atiende.users import services


class AgentSocketConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.user = user
        self.groups_joined = [user_group(user.pk)]
        if await database_sync_to_async(user.has_perm)("users.view_presence"):
            self.groups_joined.append(SUPERVISORS_GROUP)
        team_ids = await database_sync_to_async(
            lambda: list(user.teams.values_list("id", flat=True))
        )()
        self.groups_joined += [team_group(team_id) for team_id in team_ids]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await database_sync_to_async(services.register_connection)(
            user=user, channel_name=self.channel_name
        )

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "user"):
            return
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        await database_sync_to_async(services.unregister_connection)(channel_name=self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await database_sync_to_async(services.touch_connection)(channel_name=self.channel_name)
            await self.send_json({"type": "pong"})

    async def dispatch(self, message: dict) -> None:
        """Events go straight to the browser. Channels closes stale database connections before
        every handler, a hop to a thread each time; a pushed event touches no database, and with
        a team of 200 sockets those hops were a large share of the server loop's time."""
        if message.get("type") == EVENT_TYPE:
            await self.realtime_event(message)
            return
        await super().dispatch(message)

    async def realtime_event(self, message: dict) -> None:
        text = message.get("text")  # serialised once by core.realtime.publish
        if text:
            await self.send(text_data=text)
        else:
            await self.send_json(message["event"])
