"""Simulated IP cameras: a GStreamer RTSP server playing H.264 MP4 files, looped, at real-time pace.

Run by Debian's ``/usr/bin/python3`` (the ``gi`` bindings live there, not in the project's venv), so this
script uses only the standard library and ``gi``: it must never import ``vigil``. The venv side starts it
through ``vigil.media.simulator.RtspSimulator``.

Each ``--mount NAME=PATH`` serves ``rtsp://HOST:PORT/NAME`` from the file without re-encoding
(``filesrc ! qtdemux ! h264parse ! rtph264pay``; H.265 and MPEG-4 Part 2 files are served the same way with
their own parser and payloader, for tests of other codecs). A mount is shared: every client of one mount is fed by
one pipeline. The pipeline loops with segment seeks, so the running time (and thus the RTP timestamps)
keeps growing across loop boundaries. The media is published as not seekable (clock-and-offset mode), so a
client's ``PLAY Range: npt=0-`` never rewinds the stream under the other clients: like a live camera, a
late client joins the stream where it is.

Each ``--clock NAME`` serves a live 640x360 25 fps camera whose picture carries the time it was made: the top
80 rows are 32 blocks of 20 pixels, the low 32 bits of the UTC time in milliseconds (most significant first, white
for 1), then the same bits inverted (a reader checks each pair). Encoded by x264 with zero latency; a reader
that decodes the blocks of a frame it displays and subtracts them from its clock measures glass-to-glass delay.

Exit codes: 0 clean stop, 1 unreadable media, 2 bad arguments, 3 could not listen on the port.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gi

gi.require_version("Gio", "2.0")
gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gio, GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

# Before any subclass of a GStreamer class is defined: their signal types must be registered first.
Gst.init(None)

_MOUNT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_PROBE_TIMEOUT_S = 10
_ROLE = "camera-user"


def log(message: str) -> None:
    """One line to stderr, prefixed so it can be told apart from GStreamer's own warnings."""
    print(f"simulator: {message}", file=sys.stderr, flush=True)


class LoopStitcher:
    """Keeps the running time smooth where a looped file restarts.

    After a non-flushing segment seek, qtdemux starts the new segment at the running time of the last
    frame's start, not its end, so the first frame of each loop would repeat the last one's timestamp.
    Watching what enters the parser, this shifts the parser's output (a pad offset) by the missing part.
    """

    def __init__(self, parser: Any) -> None:
        self._src = parser.get_static_pad("src")
        self._segment: Any = None
        self._end: int | None = None  # running time at which the latest frame (in presentation order) ends
        self._last_pts: int | None = None
        parser.get_static_pad("sink").add_probe(
            Gst.PadProbeType.BUFFER | Gst.PadProbeType.EVENT_DOWNSTREAM | Gst.PadProbeType.EVENT_FLUSH,
            self._on_data,
        )

    def _on_data(self, _pad: Any, info: Any) -> Any:
        if info.type & Gst.PadProbeType.BUFFER:
            self._on_buffer(info.get_buffer())
            return Gst.PadProbeReturn.OK
        event = info.get_event()
        if event.type == Gst.EventType.FLUSH_STOP:
            self._end = self._last_pts = None
        elif event.type == Gst.EventType.SEGMENT:
            segment = event.parse_segment()
            if segment.format == Gst.Format.TIME and self._end is not None:
                gap = self._end - segment.to_running_time(Gst.Format.TIME, segment.start)
                if gap > 0:
                    self._src.set_offset(self._src.get_offset() + gap)
            self._segment = segment
            self._last_pts = None
        return Gst.PadProbeReturn.OK

    def _on_buffer(self, buffer: Any) -> None:
        pts, duration = buffer.pts, buffer.duration
        if self._segment is None or pts == Gst.CLOCK_TIME_NONE:
            return
        if duration == Gst.CLOCK_TIME_NONE:
            duration = pts - self._last_pts if self._last_pts is not None and pts > self._last_pts else 0
        self._last_pts = pts
        end_pts = pts + duration
        if self._segment.stop != Gst.CLOCK_TIME_NONE:
            end_pts = min(end_pts, self._segment.stop)
        end = self._segment.to_running_time(Gst.Format.TIME, end_pts)
        if end != Gst.CLOCK_TIME_NONE and (self._end is None or end > self._end):
            self._end = end


class LoopingMedia(GstRtspServer.RTSPMedia):  # type: ignore[misc]
    """A media whose file source restarts at 0 when it reaches its end, without a flush."""

    loop = True

    def _seek_start(self, flags: Any) -> None:
        demux = self.get_element().get_by_name("demux")
        if demux is None or not demux.seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1):
            log("loop seek refused by the demuxer")

    def do_prepared(self) -> None:
        if self.loop:
            self._stitcher = LoopStitcher(self.get_element().get_by_name("parse"))
            # The first seek turns the playback into a segment playback (posts SEGMENT_DONE, not EOS).
            self._seek_start(Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT)

    def do_handle_message(self, message: Any) -> bool:
        kind = message.type
        if kind == Gst.MessageType.SEGMENT_DONE and self.loop:
            # Non-flushing: the new segment's base time continues from the end of the previous one.
            self._seek_start(Gst.SeekFlags.SEGMENT)
            return True
        if kind == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            log(f"pipeline error from {message.src.get_name()}: {error.message} ({debug})")
        return GstRtspServer.RTSPMedia.do_handle_message(self, message)


class NoLoopMedia(LoopingMedia):
    loop = False


def quoted(value: str) -> str:
    """A value quoted for a gst-launch description."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# codec: (caps out of qtdemux, parser, what follows the parser up to and including the payloader)
CODECS = {
    "h264": (
        "video/x-h264",
        "h264parse",
        "video/x-h264,stream-format=byte-stream,alignment=au ! rtph264pay",
    ),
    "h265": (
        "video/x-h265",
        "h265parse",
        "video/x-h265,stream-format=byte-stream,alignment=au ! rtph265pay",
    ),
    "mpeg4": ("video/mpeg,mpegversion=4", "mpeg4videoparse", "rtpmp4vpay"),
}


def file_chain(path: Path, codec: str = "h264") -> str:
    parser = CODECS[codec][1]
    return f"filesrc location={quoted(str(path))} ! qtdemux name=demux demux.video_0 ! {parser} name=parse"


def probe(path: Path) -> tuple[str | None, str | None]:
    """(codec, None) when the file prerolls as H.264 (or H.265, MPEG-4 Part 2) video in an MP4/MOV container,
    else (None, a reason)."""
    if not path.is_file():
        return None, f"file not found: {path}"
    detail = "unknown error"
    for codec, (caps, _, _) in CODECS.items():
        pipeline = Gst.parse_launch(file_chain(path, codec) + f" ! capsfilter caps={caps} ! fakesink name=sink")
        try:
            pipeline.set_state(Gst.State.PAUSED)
            result, _state, _pending = pipeline.get_state(_PROBE_TIMEOUT_S * Gst.SECOND)
            if result == Gst.StateChangeReturn.SUCCESS:
                return codec, None
            if result == Gst.StateChangeReturn.FAILURE:
                message = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
                detail = message.parse_error()[0].message if message else detail
            else:
                return None, f"timed out reading {path}"
        finally:
            pipeline.set_state(Gst.State.NULL)
    return None, f"not an H.264 MP4 ({detail}): {path}"


def make_factory(path: Path, codec: str, loop: bool, permissions: Any, pay_options: str = "") -> Any:
    factory = GstRtspServer.RTSPMediaFactory()
    # SPS/PPS in front of every IDR access unit, so a client joining a shared stream can decode. h264parse
    # inserts them once per access unit; rtph264pay's config-interval would put them before every slice
    # of a multi-slice IDR picture, which makes FFmpeg split the picture into two broken frames.
    payloader = CODECS[codec][2]
    factory.set_launch(f"( {file_chain(path, codec)} config-interval=-1 ! {payloader} name=pay0 pt=96 {pay_options} )")
    factory.set_shared(True)
    factory.set_media_gtype(LoopingMedia if loop else NoLoopMedia)
    # Not seekable: a client's PLAY range never rewinds the shared pipeline under the other clients.
    factory.set_publish_clock_mode(GstRtspServer.RTSPPublishClockMode.CLOCK_AND_OFFSET)
    if permissions is not None:
        factory.set_permissions(permissions)
    return factory


CLOCK_WIDTH, CLOCK_HEIGHT, CLOCK_FPS = 640, 360, 25
CLOCK_BITS, CLOCK_BAND = 32, 40  # 32 blocks of 640 / 32 = 20 pixels; each band 40 rows


def clock_frame(now_ms: int) -> bytes:
    """An I420 frame carrying ``now_ms``'s low 32 bits in blocks (see the module's docstring)."""
    width = CLOCK_WIDTH // CLOCK_BITS
    bits = [(now_ms >> (CLOCK_BITS - 1 - i)) & 1 for i in range(CLOCK_BITS)]
    row = b"".join((b"\xeb" if bit else b"\x10") * width for bit in bits)
    inverse = b"".join((b"\x10" if bit else b"\xeb") * width for bit in bits)
    luma = row * CLOCK_BAND + inverse * CLOCK_BAND + b"\x80" * (CLOCK_WIDTH * (CLOCK_HEIGHT - 2 * CLOCK_BAND))
    return luma + b"\x80" * (CLOCK_WIDTH * CLOCK_HEIGHT // 2)


class ClockFeeder:
    """Pushes a frame with the current time into a clock camera's ``appsrc`` every 1/25 s while it plays."""

    def __init__(self, appsrc: Any) -> None:
        self._appsrc = appsrc
        self._timer = GLib.timeout_add(1000 // CLOCK_FPS, self._push)

    def _push(self) -> bool:
        data = clock_frame(time.time_ns() // 1_000_000)
        result = self._appsrc.emit("push-buffer", Gst.Buffer.new_wrapped(data))
        if result != Gst.FlowReturn.OK and result != Gst.FlowReturn.FLUSHING:
            return GLib.SOURCE_REMOVE  # the media is gone
        return GLib.SOURCE_CONTINUE

    def stop(self) -> None:
        GLib.source_remove(self._timer)


def make_clock_factory(permissions: Any) -> Any:
    factory = GstRtspServer.RTSPMediaFactory()
    caps = f"video/x-raw,format=I420,width={CLOCK_WIDTH},height={CLOCK_HEIGHT},framerate={CLOCK_FPS}/1"
    factory.set_launch(
        "( appsrc name=clock is-live=true do-timestamp=true format=time max-buffers=2 leaky-type=downstream"
        f" caps={caps}"
        f" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={CLOCK_FPS} bframes=0 bitrate=1500"
        " ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au"
        " ! rtph264pay name=pay0 pt=96 )"
    )
    factory.set_shared(True)
    feeders: dict[int, ClockFeeder] = {}

    def configure(_factory: Any, media: Any) -> None:
        feeder = ClockFeeder(media.get_element().get_by_name("clock"))
        feeders[id(media)] = feeder
        media.connect("unprepared", lambda m: feeders.pop(id(m)).stop())

    factory.connect("media-configure", configure)
    if permissions is not None:
        factory.set_permissions(permissions)
    return factory


def make_auth(username: str, password: str, method: str = "basic") -> tuple[Any, Any]:
    """Basic or Digest auth for every mount: the right credentials get a role allowed to use the factories."""
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", _ROLE)
    if method == "digest":
        auth.add_digest(username, password, token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    else:
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(username, password), token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_permission_for_role(_ROLE, "media.factory.access", True)
    permissions.add_permission_for_role(_ROLE, "media.factory.construct", True)
    return auth, permissions


def parse_mount(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not path or not _MOUNT_NAME.match(name):
        raise argparse.ArgumentTypeError(f"expected NAME=PATH with NAME in [A-Za-z0-9_.-]: {text!r}")
    return name, Path(path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve H.264 MP4 files as looping RTSP cameras.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", type=parse_mount, action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--clock", action="append", default=[], metavar="NAME", help="a camera showing the time")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--auth-method", choices=("basic", "digest"), default="basic")
    parser.add_argument("--rtp-timestamp-offset", type=int, help="first RTP timestamp (test wrap-around)")
    parser.add_argument("--rtp-seqnum-offset", type=int, help="first RTP sequence number")
    parser.add_argument("--session-timeout", type=int, help="RTSP session timeout announced, in seconds")
    parser.add_argument("--tls-pem", help="a PEM file with a certificate and its key: serve rtsps:// (TLS)")
    parser.add_argument("--no-loop", action="store_true")
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="quit when the process that started us goes away"
    )
    args = parser.parse_args(argv)
    if (args.username is None) != (args.password is None):
        parser.error("--username and --password go together")
    names = [name for name, _ in args.mount] + list(args.clock)
    if not names:
        parser.error("give at least one --mount or --clock")
    if len(set(names)) != len(names):
        parser.error("mount names must be unique")
    if any(not _MOUNT_NAME.match(name) for name in args.clock):
        parser.error("clock names must be in [A-Za-z0-9_.-]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    codecs = {}
    for name, path in args.mount:
        codec, problem = probe(path)
        if codec is None:
            log(f"mount {name}: {problem}")
            return 1
        codecs[name] = codec
    pay_options = ""
    if args.rtp_timestamp_offset is not None:
        pay_options += f" timestamp-offset={args.rtp_timestamp_offset}"
    if args.rtp_seqnum_offset is not None:
        pay_options += f" seqnum-offset={args.rtp_seqnum_offset}"

    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    permissions = None
    auth = None
    if args.username is not None:
        auth, permissions = make_auth(args.username, args.password, args.auth_method)
    if args.tls_pem:
        if auth is None:  # TLS without logins: everyone may use the mounts
            auth, permissions = GstRtspServer.RTSPAuth(), GstRtspServer.RTSPPermissions()
            token = GstRtspServer.RTSPToken()
            token.set_string("media.factory.role", _ROLE)
            auth.set_default_token(token)
            permissions.add_permission_for_role(_ROLE, "media.factory.access", True)
            permissions.add_permission_for_role(_ROLE, "media.factory.construct", True)
        auth.set_tls_certificate(Gio.TlsCertificate.new_from_file(args.tls_pem))
    if auth is not None:
        server.set_auth(auth)
    mounts = server.get_mount_points()
    for name, path in args.mount:
        factory = make_factory(path.resolve(), codecs[name], not args.no_loop, permissions, pay_options)
        mounts.add_factory(f"/{name}", factory)
    for name in args.clock:
        mounts.add_factory(f"/{name}", make_clock_factory(permissions))

    if args.session_timeout:
        timeout = args.session_timeout

        def on_client(_server: Any, client: Any) -> None:
            client.connect("new-session", lambda _client, session: session.set_timeout(timeout))

        server.connect("client-connected", on_client)

    if server.attach(None) == 0:
        log(f"could not listen on {args.host}:{args.port}")
        return 3

    loop = GLib.MainLoop()

    def quit_loop() -> bool:
        loop.quit()
        return GLib.SOURCE_REMOVE

    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, quit_loop)
    if args.exit_with_parent:
        parent = os.getppid()

        def check_parent() -> bool:
            if os.getppid() != parent:
                log("parent process gone: quitting")
                loop.quit()
                return GLib.SOURCE_REMOVE
            return GLib.SOURCE_CONTINUE

        GLib.timeout_add_seconds(1, check_parent)

    print(f"READY port={server.get_bound_port()}", flush=True)
    log(
        "serving "
        + ", ".join([f"/{name} <- {path}" for name, path in args.mount] + [f"/{n} <- clock" for n in args.clock])
    )
    loop.run()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
