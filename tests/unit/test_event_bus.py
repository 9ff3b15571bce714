"""The event bus: every event the node records (analysis, recorder) is published once it is in the catalog, as
it opens and closes; a failing subscriber does not stop the others; unsubscribing stops delivery."""

from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd, StreamDown, StreamUp
from vigil.domain.segment import GapCause
from vigil.storage.migrate import upgrade_to_head
from vigil.usecases.analysis_reports import AnalysisReports
from vigil.usecases.event_bus import EventBus
from vigil.usecases.recorder_reports import RecorderReports
from vigil.wiring import PublishingCatalog

T0 = 1_764_000_000_000_000


def test_events_are_published_when_they_open_and_close(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_to_head(url)
    bus = EventBus()
    catalog = PublishingCatalog(url, bus)
    seen, in_catalog = [], []

    def broken(_message):
        raise RuntimeError("a subscriber with a bug")

    def listener(message):
        seen.append((message.change, message.record.type))
        in_catalog.append(catalog.event(message.record.id) is not None)

    bus.subscribe(broken)
    stop = bus.subscribe(listener)
    analysis, recorder = AnalysisReports(catalog), RecorderReports(catalog)
    analysis.handle(AnalysisEvent("cam1", "main", "fault:black", "fault", T0, None, "black"))
    analysis.handle(AnalysisEventEnd("cam1", "fault:black", T0 + 5_000_000, "black, recovered"))
    analysis.handle(AnalysisEvent("cam1", "main", "x", "line_cross", T0 + 6, T0 + 6, "a person crossed"))
    recorder.handle(StreamUp("cam1", "main", T0))
    recorder.handle(StreamDown("cam1", "main", T0 + 10_000_000, GapCause.TIMEOUT, "no data"))
    recorder.handle(StreamUp("cam1", "main", T0 + 20_000_000))
    assert seen[:3] == [("opened", "fault"), ("closed", "fault"), ("recorded", "line_cross")]
    assert ("opened", "camera_offline") in seen and ("closed", "camera_offline") in seen
    assert all(in_catalog), "published only once it is in the catalog"
    stop()
    count = len(seen)
    analysis.handle(AnalysisEvent("cam1", "main", "motion", "motion", T0 + 30_000_000, None, "motion"))
    assert len(seen) == count
