"""Redacted evidence packages on real footage with faces (TUD-Campus, ../shared/data): ``vigil evidence export
--redact faces,plates`` as an administrator runs it writes the original package and a redacted one whose clips a
face detector finds far fewer faces in; both verify with ``vigil verify``; the redacted manifest links to the
original by its manifest's SHA-256 and the register lists the link. Unknown redaction kinds are refused."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import av
import cv2
import numpy as np

from support.footage import T0, S, recorded_site
from support.media import SHARED_DATA, requires_shared_data
from vigil.analysis.faces import FaceFinder
from vigil.analysis.redaction import hide
from vigil.analysis.text_regions import TextFinder
from vigil.domain.timeutil import iso_from_us

TUD = SHARED_DATA / "tud-campus" / "TUD-Campus.mp4"


def vigil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vigil.cli", *args], capture_output=True, text=True, timeout=300)


def faces_in(zip_path: Path, finder: FaceFinder, out: Path) -> tuple[int, int]:
    """(faces found, frames) over every clip of a package."""
    found = frames = 0
    with zipfile.ZipFile(zip_path) as zf:
        for name in (n for n in zf.namelist() if n.startswith("clips/")):
            target = Path(zf.extract(name, out))
            with av.open(str(target)) as container:
                for frame in container.decode(video=0):
                    found += len(finder.find(frame.to_ndarray(format="bgr24")))
                    frames += 1
    return found, frames


@requires_shared_data
def test_a_redacted_package_hides_the_faces_verifies_and_links_to_its_original(tmp_path: Path) -> None:
    site = recorded_site(tmp_path, TUD, {"campus": {}})
    site.catalog.close()
    out = tmp_path / "case.zip"
    span = ("--start", iso_from_us(T0), "--end", iso_from_us(T0 + 3 * S))
    done = vigil(
        "-c", str(site.config_path), "evidence", "export", "--camera", "campus", *span, "--reason", "press release",
        "--recipient", "the public", "--redact", "faces,plates", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    redacted = tmp_path / "case-redacted.zip"
    assert "wrote redacted package ev-" in done.stdout and redacted.is_file()
    for package in (out, redacted):
        checked = vigil("verify", str(package))
        assert checked.returncode == 0 and "INTACT" in checked.stdout, checked.stdout
    with zipfile.ZipFile(out) as zf:
        original_sha = hashlib.sha256(zf.read("manifest.json")).hexdigest()
        original = json.loads(zf.read("manifest.json"))
    with zipfile.ZipFile(redacted) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        custody = json.loads(zf.read("custody/0001.json"))["entry"]
        readme = zf.read("README.txt").decode()
    assert f"re-encoded from package {original['package_id']} with faces, plates hidden" in readme
    link = manifest["redaction"]
    assert link["of_package"] == original["package_id"] and link["original_manifest_sha256"] == original_sha
    assert link["hidden"] == ["faces", "plates"] and link["regions_hidden"]["faces"] > 50
    assert manifest["package_id"] == original["package_id"] + "-redacted"
    assert "redacted copy of " + original["package_id"] in custody["note"]
    sources = {f["path"]: f["sha256"] for f in original["files"]}
    assert all(c["derived_from"]["sha256"] == sources[c["path"]] for c in manifest["clips"])
    finder = FaceFinder()
    before, frames = faces_in(out, finder, tmp_path / "original")
    after, frames_after = faces_in(redacted, finder, tmp_path / "redacted")
    assert frames == frames_after > 60
    assert before > 150 and after <= before * 0.05, f"faces found: {before} before, {after} after redaction"
    listed = vigil("-c", str(site.config_path), "evidence", "list")
    assert f"redacted (faces,plates) copy of {original['package_id']}" in listed.stdout


def test_an_unknown_redaction_kind_is_refused(tmp_path: Path, synthetic_clip: Path) -> None:
    site = recorded_site(tmp_path, synthetic_clip, {"gate": {}})
    site.catalog.close()
    done = vigil(
        "-c", str(site.config_path), "evidence", "export", "--camera", "gate", "--start", iso_from_us(T0),
        "--end", iso_from_us(T0 + 2 * S), "--reason", "r", "--recipient", "p", "--redact", "faces,eyes",
        "-o", str(tmp_path / "x.zip"),
    )  # fmt: skip
    assert done.returncode != 0 and "unknown kind 'eyes'" in done.stdout + done.stderr
    assert not (tmp_path / "x.zip").exists()


def test_text_on_a_vehicle_is_found_and_hidden() -> None:
    picture = np.full((240, 480, 3), 90, np.uint8)
    cv2.rectangle(picture, (100, 60), (380, 200), (40, 40, 160), -1)  # a vehicle's box, given
    cv2.rectangle(picture, (170, 140), (310, 180), (255, 255, 255), -1)  # its plate
    cv2.putText(picture, "B 482 KX", (176, 172), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    boxes = TextFinder().find_in(picture, [(100, 60, 380, 200)])
    assert boxes, "the plate's text is found inside the vehicle"
    x1, y1 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x2, y2 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    assert x1 < 215 and x2 > 290 and y1 < 155 and y2 > 170, boxes  # the digits and letters after "B"
    plate = picture[150:176, 215:300].astype(np.float32).std()
    hide(picture, boxes, "pixelate")
    assert picture[150:176, 215:300].astype(np.float32).std() < plate / 2
    assert TextFinder().find_in(picture, [(100, 60, 380, 200)]) == [], "nothing readable is left"
