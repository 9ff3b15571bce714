"""The console in Debian's Chromium (Playwright) against a real Vigil recording two simulated RTSP cameras:
login and logout, a live tile that plays, playback that seeks to the chosen moment and shows its picture, an
event that opens its clip, a viewer refused outside their grant (page, API, media URL, WebSocket), the audit
trail with the reason given, and CSRF and session fixation attempts that fail. Screenshots of every page go to
``build/screens/`` (look at them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from support.browser import requires_chromium
from support.live_app import serve
from support.node import TEST_PASSWORD, node_config, wait_for
from vigil.domain.access import Grant
from vigil.domain.timeutil import iso_from_us
from vigil.media.simulator import RtspSimulator
from vigil.runtime import Vigil
from vigil.storage.wall_groups import SqlWallGroups

pytestmark = requires_chromium
SCREENS = Path(__file__).resolve().parents[2] / "build" / "screens"
REASON = "checking the delivery at the door"


class Site:
    def __init__(self, node: Vigil, base: str) -> None:
        self.node, self.base = node, base

    def user(self, name: str, role: str, grants: list[Grant] | None = None) -> None:
        accounts = self.node.accounts
        if not any(u.username == name for u in accounts.users()):
            accounts.add_user(name, role, TEST_PASSWORD, must_change=False)
        if grants is not None:
            accounts.set_grants(name, grants)

    def audit(self, action: str, actor: str | None = None) -> list[Any]:
        return self.node.audit.entries(action=action, actor=actor, limit=1000)


@pytest.fixture(scope="module")
def site(synthetic_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("console")
    simulator = RtspSimulator({"door": synthetic_clip, "yard": synthetic_clip}, log_path=work / "rtsp.log")
    simulator.start()
    config, _ = node_config(
        work,
        {"door": simulator.url("door"), "yard": simulator.url("yard")},
        site={"name": "Harbour Gate", "timezone": "Asia/Shanghai"},
        security={"require_reason_for": ["playback"]},
    )
    node = Vigil(config, work)
    node.start()
    try:
        wait_for(lambda: len(node.catalog.segments("door", "main")) >= 3, timeout=40, what="3 recorded segments")
        with serve(node.app()) as base:
            yield Site(node, base)
    finally:
        node.stop()
        simulator.stop()


def log_in(browser: Any, site: Site, name: str, *, where: str = "/") -> Any:
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(site.base + where)
    page.wait_for_selector("#login-form")
    page.fill("#username", name)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)
    return page


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


GRAB = """(sel) => {
  const video = document.querySelector(sel);
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 36;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, 64, 36);
  const px = ctx.getImageData(0, 0, 64, 36).data;
  const gray = [];
  for (let i = 0; i < px.length; i += 4) gray.push((px[i] + px[i + 1] + px[i + 2]) / 3);
  return { gray, currentTime: video.currentTime, readyState: video.readyState };
}"""


def thumbnail_at(site: Site, camera: str, at_us: int) -> np.ndarray:
    """The recorded frame shown at ``at_us`` (the last frame starting at or before it), as 64x36 gray."""
    seg = next(s for s in site.node.catalog.segments(camera, "main", at_us, at_us + 1))
    with av.open(str(site.node.store.absolute(seg.path))) as container:
        stream = container.streams.video[0]
        chosen = None
        for frame in container.decode(stream):
            assert frame.pts is not None and stream.time_base is not None
            if seg.start_us + int(frame.pts * stream.time_base * 1_000_000) > at_us and chosen is not None:
                break
            chosen = frame
    assert chosen is not None
    rgb = chosen.to_ndarray(format="rgb24", width=64, height=36)
    return rgb.mean(axis=2)


def test_login_live_wall_and_logout(browser: Any, site: Site) -> None:
    site.user("admin", "admin")
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(site.base + "/")
    assert "/login" in page.url
    page.fill("#username", "admin")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error:not([hidden])")
    shot(page, "login-failed")
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".tile video")
    started = time.monotonic()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.tile video')].every(v => v.currentTime > 0.5)", timeout=15_000
    )
    first_frames_s = time.monotonic() - started
    first = page.evaluate("() => document.querySelector('.tile video').currentTime")
    page.wait_for_timeout(1500)
    assert page.evaluate("() => document.querySelector('.tile video').currentTime") > first + 0.8, "live advances"
    gray = np.array(page.evaluate(GRAB, ".tile video")["gray"])
    assert gray.max() - gray.min() > 30, "the live picture is not blank"
    assert sorted(page.eval_on_selector_all(".tile", "els => els.map(e => e.dataset.camera)")) == ["door", "yard"]
    shot(page, "live-wall")
    print(f"two live tiles playing {first_frames_s:.2f} s after the wall opened")
    page.click(".tile[data-camera=door]")  # enlarge
    assert page.eval_on_selector("#wall", "w => w.dataset.layout") == "1"
    assert {e.camera_id for e in site.audit("live_start", "admin")} == {"door", "yard"}
    page.click("#logout")
    page.wait_for_url("**/login")
    assert page.request.get(site.base + "/api/v1/me").status == 401
    assert any(e.actor == "admin" for e in site.audit("logout"))
    assert len(site.audit("login_failed", "admin")) == 1
    wait_for(lambda: site.audit("live_stop", "admin"), timeout=10, what="live views written as stopped")


def test_playback_seeks_to_the_chosen_moment_and_shows_its_picture(browser: Any, site: Site) -> None:
    site.user("olga", "operator", [Grant()])
    segs = site.node.catalog.segments("door", "main")
    at_us = segs[1].start_us + 1_400_000  # between keyframes
    page = log_in(browser, site, "olga", where="/events")
    page.on("dialog", lambda dialog: dialog.accept(REASON))  # the reason the site asks for before playback
    page.goto(f"{site.base}/playback?camera=door&at={iso_from_us(at_us)}")
    page.wait_for_function(
        "() => { const v = document.querySelector('#players video');"
        " return v && v.dataset.startMs && v.readyState >= 2 && !v.seeking && v.currentTime > 0; }",
        timeout=15_000,
    )
    page.evaluate("() => document.querySelector('#players video').pause()")
    page.wait_for_timeout(300)  # the paused frame is on screen
    state = page.evaluate("() => { const v = document.querySelector('#players video');"
                          " return { start: Number(v.dataset.startMs), t: v.currentTime }; }")  # fmt: skip
    shown_us = round((state["start"] + state["t"] * 1000) * 1000)
    assert 0 <= shown_us - at_us < 1_000_000, (
        f"playback starts at the chosen moment ({(shown_us - at_us) / 1e6:+.2f} s)"
    )
    grab = page.evaluate(GRAB, "#players video")
    shown = np.array(grab["gray"]).reshape(36, 64)
    right = thumbnail_at(site, "door", shown_us)
    wrong = thumbnail_at(site, "door", shown_us + 2_000_000)
    near = np.abs(shown - right).mean()
    far = np.abs(shown - wrong).mean()
    shot(page, "playback")
    assert near < far, f"the picture is the shown moment's (diff {near:.1f}) rather than 2 s later ({far:.1f})"
    plays = site.audit("playback", "olga")
    assert plays and plays[0].reason == REASON and plays[0].camera_id == "door"
    assert plays[0].range_start_us is not None and abs(plays[0].range_start_us - at_us) < 1_000_000


def test_an_event_opens_its_clip(browser: Any, site: Site) -> None:
    site.user("olga", "operator", [Grant()])
    segs = site.node.catalog.segments("yard", "main")
    event_id = site.node.catalog.add_event(
        "line_cross",
        segs[1].start_us,
        "A person crossed line 'Gate' left to right",
        camera_id="yard",
        zone="Gate",
        end_us=segs[1].start_us + 2_000_000,
        labels=["person"],
    )
    page = log_in(browser, site, "olga", where="/events")
    page.on("dialog", lambda dialog: dialog.accept(REASON))
    card = page.wait_for_selector(f"li[data-event='{event_id}']")
    shot(page, "events")
    card.query_selector("button").click()
    page.wait_for_function("() => document.querySelector('#clip').currentTime > 0.3", timeout=15_000)
    shot(page, "event-clip")
    page.keyboard.press("Escape")
    card.query_selector("button.quiet").click()  # mark reviewed
    wait_for(lambda: event_id in site.node.catalog.reviewed_ids([event_id], "olga"), timeout=5, what="review mark")


def test_a_viewer_is_refused_outside_their_grant_everywhere(browser: Any, site: Site) -> None:
    site.user("vic", "viewer", [Grant(camera_id="door")])
    page = log_in(browser, site, "vic")
    page.wait_for_selector(".tile video")
    assert page.eval_on_selector_all(".tile", "els => els.map(e => e.dataset.camera)") == ["door"]
    before = len(site.audit("access_denied", "vic"))
    refused = page.goto(site.base + "/playback")
    assert refused is not None and refused.status == 403
    shot(page, "viewer-refused")
    assert page.request.get(site.base + "/api/v1/cameras/yard").status == 403
    now = site.node.clock.now_us()
    media = page.request.get(site.base + f"/api/v1/cameras/door/clip.mp4?start={now - 10_000_000}&end={now}")
    assert media.status == 403, "a viewer has no playback, even of their camera"
    opened = page.evaluate(
        """(url) => new Promise((resolve) => {
             const ws = new WebSocket(url);
             ws.onopen = () => resolve("open");
             ws.onclose = () => resolve("closed");
           })""",
        site.base.replace("http", "ws") + "/api/v1/cameras/yard/live",
    )
    assert opened == "closed"
    denied = site.audit("access_denied", "vic")
    assert len(denied) - before >= 4
    asked = " ".join(str(e.detail) for e in denied)
    assert "page /playback" in asked and "live on camera yard" in asked


def test_csrf_from_another_site_and_session_fixation_fail(browser: Any, site: Site) -> None:
    site.user("admin", "admin")
    context = browser.new_context()
    host = site.base.split("//")[1]
    context.add_cookies([{"name": "vigil_session", "value": "planted-by-attacker", "url": site.base}])
    page = context.new_page()
    page.goto(site.base + "/login")
    page.fill("#username", "admin")
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".tile")
    cookie = next(c for c in context.cookies() if c["name"] == "vigil_session")
    assert cookie["value"] != "planted-by-attacker" and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # another site (localhost is not the same site as 127.0.0.1) tries to add a user with the admin's session
    evil = context.new_page()
    evil.goto(f"http://localhost:{host.split(':')[1]}/login")  # any page of that other origin
    status = evil.evaluate(
        """(url) => fetch(url, { method: "POST", credentials: "include", mode: "no-cors",
               headers: { "Content-Type": "text/plain" },
               body: JSON.stringify({ username: "mallory", role: "admin" }) })
             .then(() => "sent", () => "blocked")""",
        site.base + "/api/v1/users",
    )
    assert status in ("sent", "blocked")
    time.sleep(0.3)
    assert not any(u.username == "mallory" for u in site.node.accounts.users())
    # and with the page's own session but no CSRF token
    direct = page.evaluate(
        """(url) => fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
               body: JSON.stringify({ username: "mallory", role: "admin" }) }).then(r => r.status)""",
        site.base + "/api/v1/users",
    )
    assert direct == 403 and not any(u.username == "mallory" for u in site.node.accounts.users())


def test_the_other_pages_render_and_the_audit_log_shows_the_reasons(browser: Any, site: Site) -> None:
    site.user("admin", "admin")
    site.user("audrey", "auditor")
    page = log_in(browser, site, "admin", where="/health")
    page.wait_for_selector("#health tbody tr[data-camera]")
    shot(page, "health")
    page.goto(site.base + "/users")
    page.wait_for_selector("#users tbody tr[data-user]")
    shot(page, "users")
    page.goto(site.base + "/account")
    page.select_option("#language", "zh")
    with page.expect_navigation():
        page.click("#language-form button")
    page.goto(site.base + "/events")
    page.wait_for_selector("#events li")
    assert "事件" in page.content()
    shot(page, "events-zh")
    auditor = log_in(browser, site, "audrey", where="/audit")
    auditor.wait_for_selector("#audit tbody tr[data-action]")
    auditor.fill("#au-q", REASON)
    auditor.click("#audit-form button[type=submit]")
    auditor.wait_for_selector("#audit tbody tr[data-action=playback]")
    shot(auditor, "audit")
    acts = set(auditor.eval_on_selector_all("#audit tbody tr", "rows => rows.map(r => r.dataset.action)"))
    assert "playback" in acts


def test_a_wall_group_is_kept_on_the_server_and_shown_in_another_browser(browser: Any, site: Site) -> None:
    site.user("olga", "operator", [Grant()])
    page = log_in(browser, site, "olga")
    page.wait_for_selector(".tile video")
    page.click("#save-group")
    page.fill("#group-name", "Back gate")
    page.select_option("#group-layout", "1")
    page.uncheck("#group-cameras input[value=door]")
    assert page.is_hidden("#group-shared")  # only admins share groups
    shot(page, "wall-group-dialog")
    page.click("#group-form button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('.tile').length === 1")
    assert page.eval_on_selector_all(".tile", "els => els.map(e => e.dataset.camera)") == ["yard"]
    other = log_in(browser, site, "olga")  # a new browser context: nothing kept in its storage
    other.wait_for_selector("#group option:nth-child(2)", state="attached")
    other.select_option("#group", label="Back gate")
    other.wait_for_function("() => document.querySelectorAll('.tile').length === 1")
    assert other.input_value("#layout") == "1"
    other.once("dialog", lambda dialog: dialog.accept())
    other.click("#delete-group")
    other.wait_for_function("() => document.querySelectorAll('#group option').length === 1")
    assert SqlWallGroups(site.node.catalog).groups("olga") == []


def test_evidence_page_exports_a_package_and_handles_an_authority_request(browser: Any, site: Site) -> None:
    site.user("admin", "admin")
    page = log_in(browser, site, "admin", where="/evidence")
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.wait_for_selector("#ex-cameras input[value=door]")
    page.check("#ex-cameras input[value=door]")
    page.fill("#ex-reason", "case 2026-17: tailgating at the door")
    page.fill("#ex-recipient", "Officer Wang, Pudong PSB")
    page.click("#export-form button[type=submit]")
    page.wait_for_selector("#ex-result[data-state=done], #ex-result[data-state=error]", timeout=60_000)
    assert page.get_attribute("#ex-result", "data-state") == "done", page.inner_text("#ex-result")
    assert page.locator("#packages tbody tr").count() == 1
    (record,) = site.node.evidence.tools.register.packages(10, 0)
    assert record.cameras == ("door",) and record.recipient == "Officer Wang, Pudong PSB"
    page.fill("#rq-authority", "Pudong Public Security Bureau")
    page.fill("#rq-officer", "Officer Wang")
    page.fill("#rq-basis", "Criminal Procedure Law art. 54")
    page.check("#rq-cameras input[value=yard]")
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("#requests tbody tr button >> nth=0")
    page.click("#requests tbody tr button >> nth=0")  # approve
    wait_for(lambda: site.node.api_deps().authority.requests()[0].state == "approved", timeout=10, what="approved")
    page.wait_for_function("() => document.querySelectorAll('#requests tbody tr button').length === 2")
    page.click("#requests tbody tr button >> nth=0")  # fulfil (export)
    wait_for(lambda: site.node.api_deps().authority.requests()[0].state == "fulfilled", timeout=60, what="fulfilled")
    page.wait_for_function("() => document.querySelectorAll('#packages tbody tr').length === 2")
    assert page.locator("#packages tbody tr").count() == 2
    assert {h.camera_id for h in site.node.holds.holds(active_only=True)} == {"door", "yard"}
    shot(page, "evidence")
    assert not errors
    site.user("olga", "operator", [Grant()])
    olga = log_in(browser, site, "olga")
    assert "Evidence" in olga.inner_text("header nav")  # operators export
    site.user("vic", "viewer", [Grant()])
    vic = log_in(browser, site, "vic")
    assert vic.goto(site.base + "/evidence").status == 403
