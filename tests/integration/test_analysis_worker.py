"""An analysis worker process on a real RTSP stream: a picture that goes black raises a fault event with its
onset, and it ends when the picture returns (the clip loops); a worker killed is restarted."""

import os
import signal
import time

from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd
from vigil.media.analysis_worker import AnalysisJob, analysis_worker_main
from vigil.media.supervisor import WorkerSupervisor
from vigil.wiring import camera_analysis_for


def collect(supervisor: WorkerSupervisor, until, timeout_s: float = 40.0) -> list:
    messages: list = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not until(messages):
        messages += supervisor.receive(0.5)
    return messages


def test_a_black_picture_on_a_live_stream_is_a_fault_from_its_onset_until_it_returns(rtsp_simulator, black_tail_clip):
    sim = rtsp_simulator({"cam": black_tail_clip})
    job = AnalysisJob("cam", "main", sim.url("cam"), sim.url("cam"), fps=5.0, width=320)
    deaths: list = []
    supervisor = WorkerSupervisor(
        [[job]],
        lambda specs, code: deaths.append(code),
        target=analysis_worker_main,
        extra_args=(camera_analysis_for,),
        role="analysis",
    )
    supervisor.start()
    try:

        def black_raised_and_cleared(msgs):
            raised = [m for m in msgs if isinstance(m, AnalysisEvent) and m.key == "fault:black"]
            return raised and any(isinstance(m, AnalysisEventEnd) and m.key == "fault:black" for m in msgs)

        messages = collect(supervisor, black_raised_and_cleared)
        raised = [m for m in messages if isinstance(m, AnalysisEvent) and m.key == "fault:black"]
        assert raised, f"no black fault; got {[getattr(m, 'key', type(m).__name__) for m in messages][:20]}"
        ended = [m for m in messages if isinstance(m, AnalysisEventEnd) and m.key == "fault:black"]
        assert ended and ended[0].end_us > raised[0].start_us
        assert raised[0].data["raised_us"] - raised[0].start_us <= 1_000_000, "raised within 1 s of the onset"
        assert any(isinstance(m, AnalysisEvent) and m.type == "motion" for m in messages), "the moving part"

        os.kill(supervisor.pids[0], signal.SIGKILL)  # the worker dies: it is restarted and analyses again
        again = collect(supervisor, lambda msgs: any(isinstance(m, AnalysisEvent) for m in msgs))
        assert deaths and any(isinstance(m, AnalysisEvent) for m in again)
    finally:
        supervisor.stop()
