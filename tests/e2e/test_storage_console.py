"""The Storage page in Debian's Chromium (Playwright) against a real Vigil recording a file camera, with a folder
tier holding copies and backups: the tiers with their copy lag, read-back age and a damaged copy; the backups; an
early deletion asked by an admin from the form, which the asker cannot approve, approved by an auditor (the footage
goes); the page in Chinese. Screenshots go to ``build/screens/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.browser import requires_chromium
from support.live_app import serve
from support.node import TEST_PASSWORD, node_config, wait_for
from vigil.domain.tiers import CopyState
from vigil.runtime import Vigil

pytestmark = requires_chromium
SCREENS = Path(__file__).resolve().parents[2] / "build" / "screens"


class Site:
    def __init__(self, node: Vigil, base: str) -> None:
        self.node, self.base = node, base


@pytest.fixture(scope="module")
def site(synthetic_clip: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("storage-console")
    (work / "nas").mkdir()
    monkeypatch_module.setenv("VIGIL_BACKUP_PASSPHRASE", "a passphrase for the console test")
    storage = {"tiers": [{"name": "nas", "kind": "local", "path": str(work / "nas")}],
               "copies": [{"cameras": ["door"], "tier": "nas"}], "mover": {"interval_s": 0.5},
               "backup": {"tier": "nas"}}  # fmt: skip
    config, _ = node_config(work, {"door": f"file://{synthetic_clip}"}, storage=storage)
    node = Vigil(config, work)
    node.start()
    try:
        copied = wait_for(
            lambda: [s for s in node.catalog.segments("door", "main") if node.copies.copies(s.id)][:2],
            timeout=40,
            what="2 copied segments",
        )
        [copy] = node.copies.copies(copied[0].id)
        assert node.copies.release(copied[0].id)  # archived only: the mover does not copy it again
        node.copies.mark(copy.id, CopyState.DAMAGED, node.clock.now_us(), "read back with another SHA-256")
        wait_for(lambda: node.backups.last, timeout=20, what="the first backup")
        for user, role in (("olga", "admin"), ("otto", "auditor"), ("li", "admin")):
            node.accounts.add_user(user, role, TEST_PASSWORD, must_change=False)
        node.accounts.set_preferences("li", language="zh")
        with serve(node.app()) as base:
            yield Site(node, base)
    finally:
        node.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def log_in(browser: Any, site: Site, user: str, answer: str = "the court order was checked") -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.on("dialog", lambda d: d.accept(answer))
    page.goto(site.base + "/storage")
    page.wait_for_selector("#login-form")
    page.fill("#username", user)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)
    page.wait_for_selector("#tiers tbody tr")
    return page


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_the_tiers_backups_and_an_early_deletion_by_two_people(browser: Any, site: Site) -> None:
    node = site.node
    page = log_in(browser, site, "olga")
    heads = [h.inner_text() for h in page.query_selector_all("#tiers thead th")]
    rows = {}
    for r in page.query_selector_all("#tiers tbody tr"):
        cells = [c.inner_text() for c in r.query_selector_all("td")]
        rows[cells[0]] = dict(zip(heads, cells, strict=True))
    assert set(rows) == {"hot", "nas"} and rows["nas"]["Damaged"] == "1" and rows["hot"]["Damaged"] == "0", rows
    assert rows["nas"]["Copies behind"].startswith("door: ") and rows["nas"]["Read back"].endswith("days ago")
    page.wait_for_function("() => document.getElementById('backups').dataset.state === 'done'")
    assert "to tier nas, with the site key, sealed" in page.inner_text("#backups")
    assert page.query_selector_all("#backup-list li")
    segs = node.catalog.segments("door", "main")
    first = segs[0]
    page.select_option("#dl-camera", "door")
    page.fill("#dl-start", local_input(first.start_us))
    page.fill("#dl-end", local_input(first.end_us - 1_000_000))
    page.fill("#dl-reason", "a private garden was recorded by mistake")
    page.click("#deletion-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('dl-result').dataset.state === 'done'")
    page.wait_for_selector("#deletions tbody tr")
    assert page.query_selector("#deletions tbody tr button:has-text('Approve')") is None, "not by the one who asked"
    shot(page, "storage-admin")
    page.context.close()

    auditor = log_in(browser, site, "otto")
    assert auditor.is_hidden("#deletion-form"), "an auditor does not ask"
    auditor.wait_for_selector("#deletions tbody tr button:has-text('Approve and delete')")
    auditor.click("#deletions tbody tr button:has-text('Approve and delete')")
    auditor.wait_for_function("() => document.querySelector('#deletions tbody tr').innerText.includes('approved')")
    assert node.catalog.segment(first.id) is None, "the footage is gone"
    shot(auditor, "storage-auditor")
    auditor.context.close()

    chinese = log_in(browser, site, "li")
    assert "存储层" in chinese.inner_text("h1") and "审计员" in chinese.inner_text("body")
    shot(chinese, "storage-zh")
    chinese.context.close()


def local_input(us: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S")
