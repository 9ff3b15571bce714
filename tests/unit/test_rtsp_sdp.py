"""Session descriptions as cameras send them, control URLs, and streams Vigil's reader leaves to FFmpeg."""

import pytest

from vigil.media.rtsp.messages import RtspProtocolError, UnsupportedStream
from vigil.media.rtsp.sdp import decode_sprop, parse_sdp, resolve_control, video_track

GSTREAMER = """v=0\r
o=- 1188340656180883 1 IN IP4 127.0.0.1\r
s=Session streamed with GStreamer\r
i=rtsp-server\r
t=0 0\r
a=tool:GStreamer\r
a=type:broadcast\r
a=range:npt=now-\r
a=control:rtsp://127.0.0.1:8554/cam\r
m=video 0 RTP/AVP 96\r
c=IN IP4 0.0.0.0\r
b=AS:5000\r
a=rtpmap:96 H264/90000\r
a=framerate:25\r
a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QAHqy0BQF/ywgAAAMACAAAAwGQeLF1,aO8Jyw==;profile-level-id=64001e\r
a=control:stream=0\r
a=ts-refclk:local\r
a=mediaclk:sender\r
"""

# The shape of a common IP camera's answer: audio first, relative controls, no session control.
CAMERA = (
    """v=0
o=- 1109162014219182 1109162014219192 IN IP4 192.168.1.64
s=Media Presentation
c=IN IP4 0.0.0.0
t=0 0
m=audio 0 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=control:trackID=2
m=video 0 RTP/AVP 96
a=rtpmap:96 H265/90000
a=fmtp:96 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ;"""
    "sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAEAAAAwAQAAADAZCA;sprop-pps=RAHBcrRiQA==\n"
    "a=control:trackID=1\n"
)


def test_a_gstreamer_description():
    sdp = parse_sdp(GSTREAMER)
    track = video_track(sdp, "rtsp://127.0.0.1:8554/cam/")
    assert track.control_url == "rtsp://127.0.0.1:8554/cam/stream=0"
    assert (track.codec, track.payload_type, track.clock_rate, track.framerate) == ("h264", 96, 90000, 25.0)
    assert [u.hex() for u in decode_sprop(track.parameters["sprop-parameter-sets"])] == [
        "6764001eacb405017fcb080000030008000003019078b175",
        "68ef09cb",
    ]
    assert sdp.control == "rtsp://127.0.0.1:8554/cam"


def test_a_camera_description_with_audio_first_and_h265():
    track = video_track(parse_sdp(CAMERA), "rtsp://192.168.1.64:554/Streaming/Channels/101")
    assert track.codec == "hevc"
    assert track.control_url == "rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1"
    assert len(decode_sprop(track.parameters["sprop-vps"])) == 1


@pytest.mark.parametrize(
    ("base", "control", "url"),
    [
        ("rtsp://h/a/", "trackID=1", "rtsp://h/a/trackID=1"),
        ("rtsp://h/a", "trackID=1", "rtsp://h/a/trackID=1"),
        ("rtsp://h/a", "rtsp://other:554/x/track1", "rtsp://other:554/x/track1"),
        ("rtsp://h/a/", "*", "rtsp://h/a/"),
        ("rtsp://h/a?user=1", "", "rtsp://h/a?user=1"),
        ("rtsps://h/a/", "/trackID=2", "rtsps://h/a/trackID=2"),
    ],
)
def test_control_urls(base, control, url):
    assert resolve_control(base, control) == url


def test_codecs_the_reader_does_not_take_are_named():
    mjpeg = "v=0\nm=video 0 RTP/AVP 26\na=control:track1\n"
    with pytest.raises(UnsupportedStream, match="JPEG"):
        video_track(parse_sdp(mjpeg), "rtsp://h/")
    interleaved_h264 = "v=0\nm=video 0 RTP/AVP 97\na=rtpmap:97 H264/90000\na=fmtp:97 packetization-mode=2\n"
    with pytest.raises(UnsupportedStream, match="H264"):
        video_track(parse_sdp(interleaved_h264), "rtsp://h/")
    mpeg4 = "v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 MP4V-ES/90000\n"
    with pytest.raises(UnsupportedStream, match="MP4V-ES"):
        video_track(parse_sdp(mpeg4), "rtsp://h/")


def test_broken_descriptions_are_clear_errors():
    with pytest.raises(RtspProtocolError, match="no RTP video"):
        video_track(parse_sdp("v=0\nm=audio 0 RTP/AVP 0\n"), "rtsp://h/")
    with pytest.raises(RtspProtocolError, match="bad SDP media line"):
        parse_sdp("v=0\nm=video 0\n")
    assert video_track(parse_sdp("garbage\n\x00\xff\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\n"), "rtsp://h/")
    assert decode_sprop("!!!,Z2QAHqy0BQF") == [bytes.fromhex("6764001eacb40501")]
