"""Live video over a WebSocket: ``/api/v1/cameras/{id}/live``. Checked like every camera URL (the session
cookie or a bearer token, the browser's Origin, the user's live permission on that camera); refused before
the handshake completes (HTTP 403 to the browser), and written to the audit log at start and stop. A viewer without
``view_unmasked`` on a camera with privacy masks is sent the camera's masked transcode instead of its copied
stream."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from vigil.api.context import Api
from vigil.config.models import CameraConfig
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.errors import VigilError
from vigil.domain.privacy import NO_MASKS, Masks
from vigil.ports import LiveFeed

POLICY_VIOLATION = 1008
UNAVAILABLE = 1013


def live_stream(cam: CameraConfig, wanted: str) -> str:
    """The stream a viewer gets: the sub stream when there is one (smaller, cheaper), unless main is asked."""
    if wanted == "main" or cam.streams.sub is None:
        return "main"
    return "sub"


async def pump_until_closed(
    websocket: WebSocket, hub: LiveFeed, camera_id: str, stream: str, masks: Masks = NO_MASKS
) -> None:
    """Send the stream's messages until the viewer goes away (noticed even while the camera sends nothing)."""

    async def pump() -> None:
        async with hub.subscribe(camera_id, stream, masks) as subscription:
            async for message in subscription:
                if isinstance(message, bytes):
                    await websocket.send_bytes(message)
                else:
                    await websocket.send_text(message)

    async def watch() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    tasks = [asyncio.create_task(pump()), asyncio.create_task(watch())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError):
                await task
    with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
        await websocket.close()


def live_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["live"])
    deps = api.deps

    @router.websocket("/cameras/{camera_id}/live")
    async def live(
        websocket: WebSocket,
        camera_id: str,
        stream: Annotated[str, Query(pattern="^(auto|main|sub)$")] = "auto",
    ) -> None:
        try:
            caller = api.auth(websocket)
            cam = api.gate.camera(caller.principal, Action.LIVE, camera_id, caller.client)
        except VigilError as exc:
            await websocket.close(code=POLICY_VIOLATION, reason=exc.message[:120])
            return
        if deps.live is None:
            await websocket.close(code=UNAVAILABLE, reason="live view is off on this node")
            return
        chosen = live_stream(cam, stream)
        masks = api.gate.masks(caller.principal, cam)
        await websocket.accept()
        began = time.monotonic()
        api.gate.witness(
            caller.principal,
            AuditAction.LIVE_START,
            caller.client,
            camera_id=camera_id,
            detail={"stream": chosen, "masked": bool(masks)},
            once=False,
        )
        try:
            await pump_until_closed(websocket, deps.live, camera_id, chosen, masks)
        finally:
            api.gate.witness(
                caller.principal,
                AuditAction.LIVE_STOP,
                caller.client,
                camera_id=camera_id,
                detail={"stream": chosen, "masked": bool(masks), "seconds": round(time.monotonic() - began, 1)},
                once=False,
            )

    return router
