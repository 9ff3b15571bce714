"""The settings page in Debian's Chromium against a real Vigil recording two cameras from vigil.yaml: an admin
draws a zone and a line on the camera's picture, adds a rule on them and saves; vigil.yaml then has them (its
comments kept), they are in force and in the audit log; a bad URL is refused with the path of the key and
changes nothing; a camera added from the page starts recording; an operator is refused the page and the API.
Screenshots go to ``build/screens/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.browser import requires_chromium
from support.live_app import serve
from support.node import TEST_PASSWORD, node_config, wait_for
from support.privacy import is_masked, jpeg_picture, shows_footage
from vigil.domain.access import Grant
from vigil.runtime import Vigil
from vigil.storage.config_file import YamlConfigFile

pytestmark = requires_chromium
SCREENS = Path(__file__).resolve().parents[2] / "build" / "screens"


class Site:
    def __init__(self, node: Vigil, base: str, path: Path, clip: Path) -> None:
        self.node, self.base, self.path, self.clip = node, base, path, clip

    def user(self, name: str, role: str) -> None:
        if not any(u.username == name for u in self.node.accounts.users()):
            self.node.accounts.add_user(name, role, TEST_PASSWORD, must_change=False)

    def camera(self, camera_id: str) -> dict[str, Any]:
        doc = yaml.safe_load(self.path.read_text())
        return next(c for c in doc["cameras"] if c["id"] == camera_id)


@pytest.fixture(scope="module")
def site(synthetic_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("settings")
    _, path = node_config(work, {"door": f"file://{synthetic_clip}", "yard": f"file://{synthetic_clip}"})
    path.write_text("# the site's cameras (a comment the console must keep)\n" + path.read_text())
    config = YamlConfigFile(path)
    from vigil.config.loader import load_config

    node = Vigil(load_config(path), work, config_store=config, config_source=str(path))
    node.start()
    try:
        wait_for(lambda: node.catalog.segments("door", "main"), timeout=30, what="door recording")
        with serve(node.app()) as base:
            yield Site(node, base, path, synthetic_clip)
    finally:
        node.stop()


def log_in(browser: Any, site: Site, name: str, where: str) -> Any:
    page = browser.new_context(viewport={"width": 1366, "height": 1000}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.errors = errors  # a script error anywhere fails the test that opened the page
    page.goto(site.base + where)
    page.fill("#username", name)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)
    return page


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def click_at(page: Any, x: float, y: float) -> None:
    """Click the picture at (x, y), fractions of its width and height."""
    page.locator("#overlay").scroll_into_view_if_needed()
    box = page.locator("#overlay").bounding_box()
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])


def test_an_admin_draws_a_zone_and_a_line_adds_a_rule_and_saves(browser: Any, site: Site) -> None:
    site.user("admin", "admin")
    page = log_in(browser, site, "admin", "/settings#door")
    page.wait_for_selector("#camera-form:not([hidden])")
    assert page.eval_on_selector_all("#camera-list a", "as => as.map(a => a.hash)") == ["#door", "#yard"]
    page.wait_for_function("() => document.querySelector('#picture').naturalWidth > 0", timeout=15_000)
    assert page.eval_on_selector("#picture", "i => [i.naturalWidth, i.naturalHeight]") == [640, 360]

    page.click("[data-draw=zone]")
    for x, y in ((0.5, 0.5), (0.9, 0.5), (0.9, 0.9), (0.5, 0.9)):
        click_at(page, x, y)
    click_at(page, 0.501, 0.501)  # the first corner again closes the zone
    page.fill("#shapes tbody tr:nth-child(1) input", "Dock")
    page.press("#shapes tbody tr:nth-child(1) input", "Tab")
    page.click("[data-draw=line]")
    click_at(page, 0.1, 0.2)
    click_at(page, 0.4, 0.2)
    assert page.locator("#shapes tbody tr").count() == 2
    page.click("#add-rule")
    row = page.locator("#rules tbody tr").first
    row.locator("td:nth-child(1) input").fill("Dock intrusion")
    row.locator("td:nth-child(2) select").select_option("zone_enter")
    assert row.locator("td:nth-child(3) select").input_value() == "Dock"
    page.fill("#f-serial", "E1234")
    page.fill("#f-reason", "zones for the night shift")
    shot(page, "settings-drawn")
    page.click("#save")
    page.wait_for_selector("#form-result:has-text('Saved')")

    door = site.camera("door")
    zone = door["analysis"]["zones"][0]
    assert zone["name"] == "Dock" and len(zone["points"]) == 4
    for got, want in zip(zone["points"], [(0.5, 0.5), (0.9, 0.5), (0.9, 0.9), (0.5, 0.9)], strict=True):
        assert got == pytest.approx(want, abs=0.01)
    assert door["analysis"]["lines"][0]["points"] == [pytest.approx([0.1, 0.2], abs=0.01)] * 1 + [
        pytest.approx([0.4, 0.2], abs=0.01)
    ]
    assert door["analysis"]["rules"] == [
        {"name": "Dock intrusion", "kind": "zone_enter", "zone": "Dock", "labels": ["person"]}
    ]
    assert door["device"]["serial"] == "E1234"
    assert site.path.read_text().startswith("# the site's cameras")
    in_force = site.node.config.camera("door")
    assert [r.name for r in in_force.analysis.rules] == ["Dock intrusion"]
    (entry,) = site.node.audit.entries(action="config_change", camera_id="door")
    assert entry.reason == "zones for the night shift" and entry.detail["keys"] == ["analysis", "device"]
    page.reload()
    page.wait_for_function("() => document.querySelector('#picture').naturalWidth > 0", timeout=15_000)
    assert not page.errors
    assert page.locator("#overlay polygon.zone").count() == 1 and page.locator("#overlay polyline.line").count() == 1
    shot(page, "settings-saved")


def test_a_bad_url_is_refused_with_the_key_and_changes_nothing(browser: Any, site: Site) -> None:
    site.user("admin", "admin")
    page = log_in(browser, site, "admin", "/settings#yard")
    page.wait_for_selector("#camera-form:not([hidden])")
    before = site.path.read_text()
    page.fill(".stream-row[data-stream=main] .s-url", "http://10.0.0.9/video")
    page.click("#save")
    page.wait_for_selector("#form-result.error")
    message = page.inner_text("#form-result")
    assert "streams.main.url: must start with rtsp://" in message
    assert site.path.read_text() == before
    shot(page, "settings-refused")
    assert not page.errors


def test_a_camera_added_from_the_page_records(browser: Any, site: Site) -> None:
    site.user("admin", "admin")
    page = log_in(browser, site, "admin", "/settings")
    page.click("#new-camera")
    page.fill("#f-id", "gate")
    page.fill("#f-name", "Gate")
    page.fill("#f-location", "North fence")
    page.fill(".stream-row[data-stream=main] .s-url", f"file://{site.clip}")
    page.click("#save")
    page.wait_for_selector("#form-result:has-text('Saved')")
    assert page.eval_on_selector_all("#camera-list a", "as => as.map(a => a.hash)") == ["#door", "#yard", "#gate"]
    wait_for(lambda: site.node.catalog.segments("gate", "main"), timeout=20, what="the new camera recording")
    assert site.camera("gate")["location"] == "North fence"


def test_an_operator_is_refused_the_settings(browser: Any, site: Site) -> None:
    site.user("olga", "operator")
    page = log_in(browser, site, "olga", "/")
    assert "Settings" not in page.inner_text("header nav")
    response = page.goto(site.base + "/settings")
    assert response is not None and response.status == 403
    assert page.request.get(site.base + "/api/v1/settings").status == 403
    refusals = site.node.audit.entries(action="access_denied", actor="olga")
    assert any("settings" in str(e.detail) for e in refusals)


def test_an_admin_draws_a_privacy_mask_that_operators_then_see_filled_in(browser: Any, site: Site) -> None:
    site.user("admin", "admin")
    page = log_in(browser, site, "admin", "/settings#yard")
    page.wait_for_selector("#camera-form:not([hidden])")
    page.wait_for_function("() => document.querySelector('#picture').naturalWidth > 0", timeout=15_000)
    page.click("[data-draw=privacy]")
    corners = [(0.1, 0.1), (0.4, 0.1), (0.4, 0.4), (0.1, 0.4)]
    for x, y in corners:
        click_at(page, x, y)
    page.click("#finish-shape")
    assert page.locator("#overlay polygon.privacy").count() == 1
    kinds = page.eval_on_selector_all("#shapes tbody tr td:first-child", "tds => tds.map(td => td.textContent)")
    assert kinds == ["Privacy mask"]
    page.fill("#f-reason", "the neighbour's window")
    shot(page, "settings-privacy-mask")
    page.click("#save")
    page.wait_for_selector("#form-result:has-text('Saved')")
    (mask,) = site.camera("yard")["privacy_masks"]
    for got, want in zip(mask, corners, strict=True):
        assert got == pytest.approx(want, abs=0.01)
    assert "analysis" not in site.camera("yard") or "privacy_masks" not in site.camera("yard")["analysis"]
    assert len(site.node.config.camera("yard").privacy_masks) == 1, "in force at once"
    unmasked = jpeg_picture(page.request.get(site.base + "/api/v1/cameras/yard/picture.jpg").body())
    site.user("oscar", "operator")
    site.node.accounts.set_grants("oscar", [Grant(camera_id="yard")])
    operator = log_in(browser, site, "oscar", "/")
    masked = jpeg_picture(operator.request.get(site.base + "/api/v1/cameras/yard/picture.jpg").body())
    polygon = [list(p) for p in corners]
    assert is_masked(masked, polygon) and shows_footage(unmasked, polygon), "the admin sees the camera unmasked"
    page.reload()
    page.wait_for_selector("#overlay polygon.privacy")
    assert not page.errors and not operator.errors
