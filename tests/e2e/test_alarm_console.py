"""The alarm desk and incidents in Debian's Chromium (Playwright) against a real Vigil recording a simulated RTSP
camera: an event raises an alarm that reaches the open page over the live stream, beeps (WebAudio) and shows a desktop
notification (the page's Notification, counted), plays the camera live and recorded at the alarm side by side, and is
acknowledged with the "a" key; "i" opens an incident with its plan's checklist, steps are ticked, a note written,
the incident closed, and its PDF report downloaded and read back (pypdf); a malformed plan is refused in the editor;
maintenance tickets opened from an alarm and from an incident land on the Maintenance page naming where they came from.
Screenshots go to ``build/screens/``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.browser import requires_chromium
from support.live_app import serve
from support.node import TEST_PASSWORD, node_config, wait_for
from vigil.media.simulator import RtspSimulator
from vigil.runtime import Vigil

pytestmark = requires_chromium
SCREENS = Path(__file__).resolve().parents[2] / "build" / "screens"
NOTIFICATION_SPY = """
window.__notices = [];
window.Notification = class {
  constructor(title, options) { window.__notices.push({ title, body: (options || {}).body }); }
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
};
"""


class Desk:
    def __init__(self, node: Vigil, base: str) -> None:
        self.node, self.base = node, base

    def event(self, camera: str = "door") -> int:
        now = self.node.clock.now_us()
        text = "A person entered zone 'Door' at 10:00:00"
        return self.node.catalog.add_event("zone_enter", now, text, camera_id=camera, end_us=now, zone="Door")


@pytest.fixture(scope="module")
def desk(synthetic_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    work = tmp_path_factory.mktemp("alarm-console")
    simulator = RtspSimulator({"door": synthetic_clip}, log_path=work / "rtsp.log")
    simulator.start()
    config, _ = node_config(
        work,
        {"door": simulator.url("door")},
        site={"name": "Harbour Gate", "timezone": "Asia/Shanghai"},
        alarms={"rules": [{"name": "Door intrusion", "types": ["zone_enter"], "priority": 1}]},
    )
    node = Vigil(config, work)
    node.start()
    try:
        wait_for(lambda: len(node.catalog.segments("door", "main")) >= 3, timeout=40, what="3 recorded segments")
        node.accounts.add_user("olga", "admin", TEST_PASSWORD, must_change=False)
        with serve(node.app()) as base:
            yield Desk(node, base)
    finally:
        node.stop()
        simulator.stop()


def log_in(browser: Any, desk: Desk, where: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    context.add_init_script(NOTIFICATION_SPY)
    page = context.new_page()
    page.goto(desk.base + where)
    page.wait_for_selector("#login-form")
    page.fill("#username", "olga")
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)
    return page


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_an_alarm_reaches_the_desk_beeps_plays_and_is_acknowledged_with_a_key(browser: Any, desk: Desk) -> None:
    page = log_in(browser, desk, "/alarms")
    page.wait_for_function("() => document.body.dataset.live === 'yes'", timeout=10_000)
    page.click("#alerts-on")  # a person's gesture lets the page make sound
    event_id = desk.event()
    page.wait_for_selector("#alarm-queue li[data-state='new']", timeout=10_000)
    alarm_id = desk.node.alarm_desk.store.alarm_of_event(event_id)
    assert alarm_id is not None
    page.wait_for_function("() => Number(document.body.dataset.beeps || 0) >= 1", timeout=5_000)
    notices = page.evaluate("() => window.__notices")
    assert notices and notices[0]["title"] == "P1 Door intrusion: Door" and "entered zone" in notices[0]["body"]
    page.wait_for_function("() => document.getElementById('ad-live').dataset.state === 'playing'", timeout=20_000)
    page.wait_for_function(
        "() => ['playing', 'error'].includes(document.getElementById('ad-recorded').dataset.state)", timeout=20_000
    )
    assert page.get_attribute("#ad-recorded", "data-state") == "playing", page.inner_text("#ad-rec-state")
    assert page.evaluate("() => document.getElementById('ad-live').readyState") >= 2
    shot(page, "alarm-desk")
    page.keyboard.press("a")
    wait_for(lambda: desk.node.alarm_desk.store.alarm(alarm_id).state == "acknowledged", timeout=10)
    page.wait_for_selector(f"#alarm-queue li[data-alarm='{alarm_id}'][data-state='acknowledged']", timeout=5_000)
    assert desk.node.alarm_desk.store.alarm(alarm_id).acknowledged_by == "olga"
    desk.event()  # the same camera again: folds into the open alarm, no new beep for it
    folded = f"li[data-alarm='{alarm_id}']"
    page.wait_for_function(f"() => document.querySelector(\"{folded}\").textContent.includes('\\u00d72')")
    assert len(page.evaluate("() => window.__notices")) == 1
    page.context.close()


def test_an_incident_from_the_alarm_with_checklist_note_close_and_pdf_report(browser: Any, desk: Desk) -> None:
    desk.event("door")
    wait_for(lambda: desk.node.alarm_desk.store.alarms(states=["new", "acknowledged"]), what="an open alarm")
    page = log_in(browser, desk, "/alarms")
    page.wait_for_selector("#alarm-queue li[data-alarm]", timeout=10_000)
    page.select_option("#ad-type", "intrusion")
    page.keyboard.press("i")
    page.wait_for_url(lambda url: "/incidents?id=" in url, timeout=10_000)
    page.wait_for_selector("#i-checklist li[data-step='0'] button", timeout=10_000)
    incident_id = int(page.url.rsplit("=", 1)[1])
    page.click("#i-checklist li[data-step='0'] button")
    page.wait_for_selector("#i-checklist li.step.done[data-step='0']", timeout=5_000)
    page.fill("#i-note", "Delivery driver at the wrong door")
    page.click("#i-note-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('i-notes').textContent.includes('wrong door')")
    page.fill("#i-outcome", "Not an intruder: a delivery")
    page.click("#i-close button[type=submit]")
    page.wait_for_function("() => !document.getElementById('i-reopen').hidden", timeout=5_000)
    shot(page, "incident")
    got = page.request.get(f"{desk.base}/api/v1/incidents/{incident_id}/report.pdf")
    assert got.status == 200 and got.body().startswith(b"%PDF")
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(got.body())).pages)
    for words in ("Incident report", "Door intrusion", "wrong door", "Not an intruder", "Time to close", "done"):
        assert words in text, words
    view = desk.node.incidents.view(incident_id)
    assert view.incident.state == "closed" and view.checklist[0].tick is not None
    assert view.checklist[0].tick.by == "olga" and view.incident.first_action_us is not None
    page.context.close()


def test_the_plans_editor_refuses_a_malformed_plan(browser: Any, desk: Desk) -> None:
    page = log_in(browser, desk, "/plans")
    page.wait_for_selector("#plans li[data-plan='fire']", timeout=10_000)
    page.click("#plans li[data-plan='fire']")
    page.fill("#plan-text", "type: fire\ntitle: Fire\nsteps:\n  - {txt: Call 119}\n")
    page.click("#plan-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('plan-result').textContent.includes('steps[0].txt')")
    assert not (desk.node.base_dir / "plans" / "fire.yaml").exists()
    page.fill("#plan-text", "type: fire\ntitle: Fire (harbour)\nsteps:\n  - {text: Call 119, who: operator}\n")
    page.click("#plan-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('plan-result').textContent.length > 0")
    page.wait_for_selector("#plans li[data-plan='fire'] .muted", timeout=5_000)
    assert "Fire (harbour)" in (desk.node.base_dir / "plans" / "fire.yaml").read_text()
    shot(page, "plans")
    page.context.close()


def test_a_maintenance_ticket_from_an_alarm_and_from_an_incident(browser: Any, desk: Desk) -> None:
    """A camera found damaged at an alarm: the operator opens a ticket from the alarm (landing on it in the
    Maintenance page), and another from the incident the alarm became; both name where they came from."""
    desk.event("door")
    [alarm] = wait_for(lambda: desk.node.alarm_desk.store.alarms(states=["new", "acknowledged"]), what="an alarm")
    page = log_in(browser, desk, "/alarms")
    page.wait_for_selector(f"#alarm-queue li[data-alarm='{alarm.id}']", timeout=10_000)
    page.click(f"#alarm-queue li[data-alarm='{alarm.id}']")
    page.fill("#ad-note", "housing cracked")
    page.click("#ad-ticket")
    page.wait_for_url(lambda url: "/maintenance?id=" in url, timeout=10_000)
    ticket_id = int(page.url.rsplit("=", 1)[1])
    page.wait_for_function(
        "() => document.getElementById('tk-title').textContent.includes('From alarm')", timeout=10_000
    )
    ticket = desk.node.tickets.ticket(ticket_id)
    assert (ticket.equipment_id, ticket.source, ticket.source_ref) == ("door", "alarm", f"alarm:{alarm.id}")
    assert ticket.opened_by == "olga" and ticket.detail == "housing cracked" and ticket.cameras == ("door",)
    made = desk.node.incidents.open("intrusion", "Door forced", None, "Door", "olga", alarm_ids=[alarm.id])
    page.goto(f"{desk.base}/incidents?id={made.id}")
    page.wait_for_selector("#i-ticket:not([hidden]) option[value='door']", state="attached", timeout=10_000)
    page.click("#i-ticket button[type=submit]")
    page.wait_for_url(lambda url: f"/maintenance?id={ticket_id + 1}" in url, timeout=10_000)
    second = desk.node.tickets.ticket(ticket_id + 1)
    assert (second.source, second.source_ref) == ("incident", f"incident:{made.id}")
    assert "Door forced" in second.title
    shot(page, "ticket-from-incident")
    page.context.close()
