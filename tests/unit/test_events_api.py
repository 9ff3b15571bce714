"""GET /api/v1/events on the real app over a real SQLite catalog: each event's zone, labels and best score, and the
label and zone filters beside camera, type, time range, words and paging; bad filter values get the JSON error."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from support.api import api_deps
from support.node import logged_in, node_config
from vigil.api.app import create_app
from vigil.storage.catalog import SqlCatalog, sqlite_url

T0 = 1_764_000_000_000_000
S = 1_000_000


class FixedClock:
    def now_us(self) -> int:
        return T0 + 3600 * S


Api = tuple[TestClient, dict[str, int]]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    config, _ = node_config(tmp_path, {"yard": "file:///yard.mp4", "door": "file:///door.mp4"})
    catalog = SqlCatalog(sqlite_url(tmp_path / "catalog.db"))
    deps = api_deps(config, catalog, tmp_path, FixedClock())
    add = catalog.add_event
    ids = {
        "car": add("zone_enter", T0, "A car entered zone 'Gate'", camera_id="yard", zone="Gate", labels=["car"]),
        "carriage": add("zone_enter", T0 + S, "A carriage", camera_id="yard", zone="Gate", labels=["carriage"]),
        "people": add(
            "crowd", T0 + 20 * S, "People", camera_id="yard", zone="Loading dock", labels=["person", "car"], score=0.9
        ),
        "door": add("line_cross", T0 + 30 * S, "A car crossed", camera_id="door", zone="Gate", labels=["car"]),
        "motion": add("motion", T0 + 40 * S, "Motion", camera_id="yard"),
    }
    catalog.end_event(ids["car"], T0 + 5 * S, labels=["person"], score=0.75)
    yield logged_in(create_app(deps), deps.accounts), ids
    catalog.close()


def listed(client: TestClient, query: str) -> list[int]:
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 200, response.text
    return [e["id"] for e in response.json()["items"]]


def test_events_carry_their_zone_labels_and_best_score(api: Api) -> None:
    client, ids = api
    first = next(e for e in client.get("/api/v1/events").json()["items"] if e["id"] == ids["car"])
    assert (first["zone"], first["labels"], first["score"]) == ("Gate", ["car", "person"], 0.75)
    motion = client.get(f"/api/v1/events/{ids['motion']}").json()["event"]
    assert (motion["zone"], motion["labels"], motion["score"]) == (None, [], None)
    detail = client.get(f"/api/v1/events/{ids['people']}").json()["event"]
    assert (detail["zone"], detail["labels"], detail["score"]) == ("Loading dock", ["car", "person"], 0.9)


def test_events_are_filtered_by_one_label_exactly_and_by_zone(api: Api) -> None:
    client, ids = api
    assert listed(client, "label=car") == [ids["door"], ids["people"], ids["car"]], "not the carriage"
    assert listed(client, "label=Carriage") == [ids["carriage"]]
    assert listed(client, "label=person&zone=Gate") == [ids["car"]]
    assert listed(client, "zone=Loading%20dock") == [ids["people"]]
    assert listed(client, "zone=Loading") == []
    assert listed(client, "label=car&camera=yard&type=zone_enter") == [ids["car"]]
    window = f"start={T0 + 10 * S}&end={T0 + 35 * S}"
    assert listed(client, f"label=car&{window}") == [ids["door"], ids["people"]]
    assert listed(client, "zone=Gate&limit=2") == [ids["door"], ids["carriage"]]
    cursor = client.get("/api/v1/events?zone=Gate&limit=2").json()["next_cursor"]
    assert listed(client, f"zone=Gate&limit=2&cursor={cursor}") == [ids["car"]]
    assert listed(client, "zone=Gate&q=crossed") == [ids["door"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("label=", "label: String should have at least 1 character"),
        ("zone=", "zone: String should have at least 1 character"),
        ("label=" + "x" * 65, "label: String should have at most 64 characters"),
        ("label=car,person", "holds a comma"),
        ("label=%20%20", "label: must not be empty"),
    ],
)
def test_a_bad_label_or_zone_gets_the_json_error(api: Api, query: str, message: str) -> None:
    client, _ = api
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["kind"] == "invalid" and message in error["message"]
