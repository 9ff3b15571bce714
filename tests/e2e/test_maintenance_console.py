"""Maintenance in Debian's Chromium (Playwright) against a real Vigil recording a simulated RTSP camera:

- English: the camera is stopped, its ticket reaches the queue with the last good picture; it is acknowledged,
  assigned, started; a change made meanwhile by someone else is refused with the conflict shown and nothing lost;
  it is resolved with the work done; when the camera is back Vigil verifies it and it is closed;
- Chinese: a ticket opened by hand from the page, worked, verified and closed, with the page in Chinese;
- the Equipment page: a switch registered, the camera's record changed, a datasheet uploaded, the health strip drawn;
  the daily picture check's figures drawn against the baseline, a decline marked.
Screenshots go to ``build/screens/``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from support.browser import requires_chromium
from support.live_app import serve
from support.node import TEST_PASSWORD, node_config, wait_for
from vigil.domain.degradation import QualitySample
from vigil.media.simulator import RtspSimulator
from vigil.runtime import Vigil

pytestmark = requires_chromium
SCREENS = Path(__file__).resolve().parents[2] / "build" / "screens"
FAST = {
    "thresholds_s": {"offline": 2},
    "verify_s": 3,
    "verify_grace_s": 5,
    "close_verified_after_s": None,
    "group_window_s": 0,
    "check_interval_s": 0.3,
    "inspections": [{"name": "Monthly check", "items": ["Housing", "Lens", "Picture"], "every_days": 30}],
}


class Site:
    def __init__(self, node: Vigil, base: str, simulator: RtspSimulator) -> None:
        self.node, self.base, self.simulator = node, base, simulator


@pytest.fixture(scope="module")
def site(synthetic_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("maintenance-console")
    simulator = RtspSimulator({"door": synthetic_clip}, log_path=work / "rtsp.log")
    simulator.start()
    config, _ = node_config(
        work,
        {"door": simulator.url("door")},
        site={"name": "Harbour Gate", "timezone": "Asia/Shanghai"},
        maintenance=FAST,
    )
    node = Vigil(config, work)
    node.start()
    try:
        wait_for(lambda: len(node.catalog.segments("door", "main")) >= 3, timeout=40, what="3 recorded segments")
        node.accounts.add_user("olga", "admin", TEST_PASSWORD, must_change=False)
        node.accounts.add_user("li", "admin", TEST_PASSWORD, must_change=False)
        node.accounts.set_preferences("li", language="zh")
        node.accounts.add_user("tom", "technician", TEST_PASSWORD, must_change=False)
        with serve(node.app()) as base:
            yield Site(node, base, simulator)
    finally:
        node.stop()
        simulator.stop()


def log_in(browser: Any, site: Site, where: str, user: str = "olga") -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.on("dialog", lambda d: d.accept("parts on order"))
    page.goto(site.base + where)
    page.wait_for_selector("#login-form")
    page.fill("#username", user)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)
    return page


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def state_is(page: Any, state: str, timeout: int = 20_000) -> None:
    page.wait_for_function(f"() => document.getElementById('ticket').dataset.state === '{state}'", timeout=timeout)


def test_a_fault_ticket_is_worked_verified_and_closed_in_the_console(browser: Any, site: Site) -> None:
    page = log_in(browser, site, "/maintenance")
    page.wait_for_function("() => document.body.dataset.ready === 'yes'")
    site.simulator.stop()
    page.wait_for_selector("#tickets li[data-state='open']", timeout=30_000)  # the page polls every 5 s
    ticket_id = int(page.get_attribute("#tickets li[data-state='open']", "data-ticket"))
    page.click(f"#tickets li[data-ticket='{ticket_id}']")
    state_is(page, "open")
    page.wait_for_function("() => document.getElementById('tk-good').naturalWidth > 0", timeout=20_000)
    page.click("#tk-ack")
    state_is(page, "acknowledged")
    page.fill("#tk-assignee", "tom")
    page.fill("#tk-vendor", "Acme Security")
    page.click("#tk-assign button[type=submit]")
    page.wait_for_function("() => document.getElementById('tk-facts').textContent.includes('Acme Security')")
    # someone else changes the ticket meanwhile: the next act from this page is refused, shown, and nothing is lost
    seen = site.node.tickets.ticket(ticket_id)
    site.node.tickets.edit(ticket_id, "bob", seen.revision, vendor_ref="ACME-7781")
    page.click("#tk-start")
    page.wait_for_function("() => document.getElementById('tk-error').textContent.includes('changed meanwhile')")
    assert page.input_value("#tk-vendor-ref") == "ACME-7781"
    page.click("#tk-start")
    state_is(page, "in_progress")
    page.check("#tk-work input[value='cabling']")
    page.fill("#tk-parts", "RJ45 plug")
    page.fill("#tk-minutes", "25")
    page.click("#tk-resolve button[type=submit]")
    state_is(page, "resolved")
    shot(page, "maintenance-resolved")
    site.simulator.start()  # the camera is back: Vigil verifies the repair
    page.wait_for_function(
        "() => document.getElementById('ticket').dataset.state === 'verified'", timeout=60_000, polling=1000
    )
    page.click("#tk-close")
    state_is(page, "closed")
    done = site.node.tickets.ticket(ticket_id)
    assert (done.state.value, done.closed_by, done.assignee, done.vendor_ref) == ("closed", "olga", "tom", "ACME-7781")
    assert done.work_done == ("cabling",) and done.parts == ("RJ45 plug",) and done.time_spent_min == 25
    history = page.inner_text("#tk-history")
    assert "verified" in history and "closed" in history
    shot(page, "maintenance-closed")
    page.context.close()


def test_a_ticket_by_hand_in_chinese(browser: Any, site: Site) -> None:
    wait_for(lambda: site.node.catalog.open_gap_of("door", "main") is None, timeout=40, what="door recording")
    page = log_in(browser, site, "/maintenance", user="li")
    page.wait_for_function("() => document.body.dataset.ready === 'yes'")
    assert page.inner_text("#t-new button[type=submit]") == "新建工单"
    page.select_option("#t-new-equipment", "door")
    page.select_option("#t-new-kind", "blurred")
    page.fill("#t-new-title", "门口摄像机画面发虚")
    page.click("#t-new button[type=submit]")
    state_is(page, "open")
    assert "画面模糊" in page.inner_text("#tk-facts")
    page.click("#tk-start")
    state_is(page, "in_progress")
    page.check("#tk-work input[value='refocused']")
    page.click("#tk-resolve button[type=submit]")
    state_is(page, "resolved")
    assert "Vigil" in page.inner_text("#tk-verify")
    page.wait_for_function(
        "() => document.getElementById('ticket').dataset.state === 'verified'", timeout=30_000, polling=1000
    )
    page.click("#tk-close")
    state_is(page, "closed")
    assert "已关闭" in page.inner_text("#tk-facts")
    shot(page, "maintenance-zh")
    page.context.close()


def test_the_equipment_page_registers_links_keeps_documents_and_draws_the_health_strip(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    page = log_in(browser, site, "/equipment")
    page.wait_for_function("() => document.body.dataset.ready === 'yes'")
    page.select_option("#eq-new-kind", "switch")
    page.fill("#eq-new-id", "sw-gate")
    page.fill("#eq-new-name", "Gate switch")
    page.click("#eq-new button[type=submit]")
    page.wait_for_selector("#register tr[data-equipment='sw-gate']")
    page.click("#register tr[data-equipment='door']")
    page.wait_for_function("() => document.getElementById('record').dataset.equipment === 'door'")
    page.wait_for_function("() => Number(document.getElementById('eq-strip').dataset.pieces || 0) > 0", timeout=10_000)
    page.fill("#eq-f-firmware", "V5.7.3 build 230412")
    page.fill("#eq-f-depends_on", "sw-gate@4")
    page.click("#eq-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('eq-result').textContent === 'Saved.'")
    record = site.node.register.get("door")
    assert record.firmware == "V5.7.3 build 230412" and record.depends_on[0].equipment_id == "sw-gate"
    sheet = tmp_path / "ds-2cd2143.pdf"
    sheet.write_bytes(b"%PDF-1.4\n% datasheet\n" + b"0" * 500)
    page.set_input_files("#eq-file", str(sheet))
    page.click("#eq-upload button[type=submit]")
    page.wait_for_function("() => document.getElementById('eq-docs').textContent.includes('ds-2cd2143.pdf')")
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(b"MZ\x90\x00 this is a program")
    page.set_input_files("#eq-file", str(fake))
    page.click("#eq-upload button[type=submit]")
    page.wait_for_function("() => document.getElementById('eq-result').textContent.includes('not a PDF')")
    assert [d.name for d in site.node.register.documents("door")] == ["ds-2cd2143.pdf"]
    assert "sw-gate@4" in page.inner_text("#register tr[data-equipment='door']")
    shot(page, "equipment")
    page.context.close()


def test_a_technician_does_an_inspection_with_the_cameras_picture_and_a_fault_found_opens_a_ticket(
    browser: Any, site: Site
) -> None:
    wait_for(lambda: site.node.inspections.due(), timeout=10, what="an inspection due")
    page = log_in(browser, site, "/maintenance", user="tom")
    page.wait_for_function("() => document.body.dataset.ready === 'yes'")
    page.click("#inspections li[data-inspection]")
    page.wait_for_function("() => document.getElementById('in-picture').naturalWidth > 0", timeout=20_000)
    page.check("#in-items tr:nth-child(2) input[value='bad']")
    page.fill("#in-note-1", "bird droppings on the lens")
    page.click("#inspection button[type=submit]")
    page.wait_for_function("() => document.getElementById('inspection').dataset.done", timeout=10_000)
    done = site.node.inspections.get(int(page.get_attribute("#inspection", "data-done")))
    assert done.state.value == "done" and done.done_by == "tom" and done.picture
    found = site.node.tickets.ticket(done.ticket_id)
    assert found.kind.value == "inspection" and "bird droppings" in found.detail
    state_is(page, "open")
    shot(page, "inspection-done")
    page.context.close()


def test_a_technician_lands_on_a_page_they_may_open(browser: Any, site: Site) -> None:
    page = log_in(browser, site, "/", user="tom")
    page.wait_for_url(lambda url: url.rstrip("/").endswith(("/health", "/equipment", "/maintenance")), timeout=10_000)
    nav = page.inner_text("header nav")
    assert "Maintenance" in nav and "Playback" not in nav and "Evidence" not in nav
    page.context.close()


def test_the_daily_picture_check_shows_a_decline_on_the_cameras_record(browser: Any, site: Site) -> None:
    """Ten days of the door camera's picture: a week measured on what it recorded, then three days with the
    sharpness at 70% of it; the record draws each figure against its baseline and marks the decline, and the
    degradation ticket it opened is listed with the camera's tickets."""
    node = site.node
    now = node.clock.now_us()
    clean, _ = node.quality.pictures.measure("door", now - 3600 * 10**6, now, 3) or (None, 0)
    assert clean is not None
    day = 86_400 * 10**6
    for k in range(10):
        m = clean if k < 7 else replace(clean, sharpness=round(clean.sharpness * 0.7, 5))
        node.quality.store.add(QualitySample("door", now - (10 - k) * day, "day", m, f"2026-11-{20 + k}", 3))
    ticket = node.quality.judge("door")
    assert ticket is not None and ticket.kind.value == "degradation"
    page = log_in(browser, site, "/equipment#door")
    page.wait_for_function("() => document.getElementById('record').dataset.equipment === 'door'")
    page.wait_for_selector(".spark-row.declined[data-metric='day:sharpness']", timeout=10_000)
    assert page.locator(".spark-row.declined").count() == 1
    assert page.locator(".spark-row[data-metric='day:contrast'] line.base").count() == 1
    assert "sharpness at 70% of its usual" in page.inner_text("#eq-quality-note")
    assert f"#{ticket.id}" in page.inner_text("#eq-tickets")
    page.locator("#eq-quality-part").scroll_into_view_if_needed()
    shot(page, "equipment-quality")
    page.context.close()
