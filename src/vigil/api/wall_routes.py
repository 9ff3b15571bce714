"""The live wall's camera groups: each user's own, and the shared ones (admins share them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.auth import Caller
from vigil.api.context import Api
from vigil.api.schemas import Page
from vigil.domain.access import Action
from vigil.domain.errors import NotFound
from vigil.domain.records import WallGroup
from vigil.domain.timeutil import iso_from_us
from vigil.usecases.wall_groups import WallGroups


class WallGroupOut(BaseModel):
    name: str
    owner: str
    mine: bool = Field(description="Made by the caller (who may change or remove it)")
    cameras: list[str] = Field(description="Camera ids in wall order: only those the caller may watch")
    layout: int = Field(description="Tiles: 1, 4, 9 or 16")
    shared: bool = Field(description="Offered to every user")
    updated: str

    @classmethod
    def of(cls, group: WallGroup, caller: str) -> WallGroupOut:
        return cls(
            name=group.name,
            owner=group.owner,
            mine=group.owner == caller,
            cameras=list(group.cameras),
            layout=group.layout,
            shared=group.shared,
            updated=iso_from_us(group.updated_us),
        )


class WallGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cameras: list[str] = Field(max_length=64, description="Camera ids in wall order")
    layout: int = Field(default=4, description="Tiles: 1, 4, 9 or 16")
    shared: bool = Field(default=False, description="Offer it to every user (admins only)")


def wall_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1/wall", tags=["live"])
    deps = api.deps

    def groups() -> WallGroups:
        if deps.wall_groups is None:
            raise NotFound("this node keeps no wall groups")
        return deps.wall_groups

    def may_watch(caller: Caller) -> set[str]:
        return {c.id for c in api.gate.cameras(caller.principal, Action.LIVE)}

    @router.get("/groups", response_model=Page[WallGroupOut], summary="The caller's wall groups and the shared ones")
    def list_groups(caller: Caller = Depends(api.auth)) -> Page[WallGroupOut]:
        watch = may_watch(caller)
        found = groups().visible(caller.principal, watch.__contains__)
        return Page(items=[WallGroupOut.of(g, caller.username) for g in found], next_cursor=None)

    @router.put("/groups/{name}", response_model=WallGroupOut, summary="Save one of the caller's groups")
    def save_group(name: str, body: WallGroupIn, caller: Caller = Depends(api.auth)) -> WallGroupOut:
        watch = may_watch(caller)
        group = groups().save(caller.principal, name, body.cameras, body.layout, body.shared, watch.__contains__)
        return WallGroupOut.of(group, caller.username)

    @router.delete("/groups/{name}", status_code=204, summary="Remove a group (admins: also another's shared one)")
    def remove_group(
        name: str,
        owner: Annotated[str | None, Query(max_length=64, description="Another user's shared group")] = None,
        caller: Caller = Depends(api.auth),
    ) -> Response:
        groups().remove(caller.principal, name, owner)
        return Response(status_code=204)

    return router
