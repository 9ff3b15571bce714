"""Settings (admins): the cameras of ``vigil.yaml`` read, added, changed and removed while Vigil runs. Bodies are
cameras exactly as in the file (docs/ref/config.md), checked by the same models; passwords are never sent back
(see :mod:`vigil.usecases.camera_documents`). Every change is written to the audit log with its reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.auth import Caller
from vigil.api.context import Api, Reason
from vigil.domain.access import Action
from vigil.domain.errors import Conflict
from vigil.usecases.settings import SettingsEditor

Revision = Annotated[
    str | None, Query(max_length=128, description="The revision the change was made on (refused if it moved on)")
]


class SettingsOut(BaseModel):
    revision: str = Field(description="Changes to vigil.yaml since this revision are refused (reload first)")
    source: str = Field(description="The configuration file")
    problem: str | None = Field(description="Why the file on disk is not in force (a hand edit that fails checks)")
    restart_pending: list[str] = Field(description="Changed settings that take effect at the next restart")
    cameras: list[dict[str, Any]] = Field(description="The cameras as in vigil.yaml, without passwords")


class CameraSettingsOut(BaseModel):
    revision: str
    camera: dict[str, Any] = Field(description="One camera as in vigil.yaml, without passwords")


class CameraSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera: dict[str, Any] = Field(
        description="The whole camera as in vigil.yaml. A stream without `password` keeps its password; "
        "`password: null` removes it; a URL whose password shows as *** keeps the stored one."
    )
    revision: str | None = Field(default=None, max_length=128, description="The revision it was read at")
    reason: str | None = Field(default=None, max_length=500, description="Why (written to the audit log)")


def settings_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1/settings", tags=["settings"])
    deps = api.deps

    def editor(caller: Caller, what: str) -> SettingsEditor:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, what)
        if deps.settings is None:
            raise Conflict("this node was started without a configuration file: its settings cannot be changed")
        return deps.settings

    @router.get("", response_model=SettingsOut, summary="The settings: cameras, and whether the file is in force")
    def settings(caller: Caller = Depends(api.auth)) -> SettingsOut:
        edit = editor(caller, "see the settings")
        cameras, revision = edit.cameras()
        return SettingsOut(
            revision=revision,
            source=edit.source,
            problem=edit.problem,
            restart_pending=edit.restart_pending,
            cameras=cameras,
        )

    @router.get("/cameras/{camera_id}", response_model=CameraSettingsOut, summary="One camera's settings")
    def camera(camera_id: str, caller: Caller = Depends(api.auth)) -> CameraSettingsOut:
        doc = editor(caller, "see the settings").camera(camera_id)
        return CameraSettingsOut(revision=doc.revision, camera=doc.camera)

    @router.put("/cameras/{camera_id}", response_model=CameraSettingsOut, summary="Add or replace a camera")
    def save_camera(camera_id: str, body: CameraSettingsIn, caller: Caller = Depends(api.auth)) -> CameraSettingsOut:
        doc = editor(caller, "change the settings").save_camera(
            caller.username,
            camera_id,
            body.camera,
            revision=body.revision,
            reason=body.reason or "",
            client=caller.client,
        )
        return CameraSettingsOut(revision=doc.revision, camera=doc.camera)

    @router.delete("/cameras/{camera_id}", status_code=204, summary="Remove a camera (its footage stays)")
    def remove_camera(
        camera_id: str, revision: Revision = None, reason: Reason = None, caller: Caller = Depends(api.auth)
    ) -> Response:
        editor(caller, "change the settings").remove_camera(
            caller.username, camera_id, revision=revision, reason=reason or "", client=caller.client
        )
        return Response(status_code=204)

    return router
