"""Live view's fragmented MP4: codec strings from real extradata, remuxed clips that decode frame for frame,
and streams with broken timestamps (vigil.media.fmp4, vigil.media.live_reader.PacketRemux)."""

import io
import itertools

import av
import pytest

from support.broken import broken_timestamps_ts, raw_h264
from support.media import SHARED_DATA, requires_shared_data
from vigil.media.fmp4 import (
    Fragment,
    UnsupportedCodec,
    codec_string,
    fragment_info,
    mse_mime,
    nal_units,
    parameter_sets,
    timescale,
)
from vigil.media.live_reader import PacketRemux, StreamStarted

PROFILE_IDC = {"Baseline": 66, "Constrained Baseline": 66, "Main": 77, "High": 100}


def remux(path, limit=None, edit=None):
    """Feed a file's packets through PacketRemux: (StreamStarted, fragments, keyframe flags of the packets
    from the first keyframe on)."""
    started, fragments, keys = None, [], []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        remux = PacketRemux(stream)
        for k, packet in enumerate(p for p in container.demux(stream) if p.size):
            if limit is not None and k >= limit:
                break
            if edit:
                edit(k, packet)
            keys.append(packet.is_keyframe)
            for item in remux.feed(packet):
                if isinstance(item, StreamStarted):
                    started = item
                else:
                    fragments.append(item)
        fragments += remux.close()
    return started, fragments, keys[keys.index(True) :]


def decoded_frames(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _ in container.decode(video=0))


def count_frames(path, limit=None) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size][:limit]
        return sum(len(stream.codec_context.decode(p)) for p in packets) + len(stream.codec_context.decode(None))


# --- codec strings ---------------------------------------------------------------------------------------
def test_codec_string_from_avcc_and_from_annex_b_agree(synthetic_clip, tmp_path):
    with av.open(str(synthetic_clip)) as container:
        avcc = container.streams.video[0].codec_context.extradata
    with av.open(str(raw_h264(synthetic_clip, tmp_path))) as container:
        annex_b = container.streams.video[0].codec_context.extradata
    assert avcc[0] == 1 and annex_b.startswith(b"\x00\x00")
    assert codec_string("h264", avcc) == codec_string("h264", annex_b) == "avc1.64001e"  # High, level 3.0
    assert mse_mime("h264", avcc) == 'video/mp4; codecs="avc1.64001e"'


@requires_shared_data
@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["tampering/Occlusion.mp4", "intel-samples/car-detection.mp4"])
def test_codec_string_of_real_footage_names_its_profile_and_level(name):
    with av.open(str(SHARED_DATA / name)) as container:
        context = container.streams.video[0].codec_context
        text = codec_string("h264", context.extradata)
        profile, level = context.profile, context.level
    assert text.startswith("avc1.") and len(text) == 11
    assert int(text[5:7], 16) == PROFILE_IDC[profile]
    assert int(text[9:11], 16) == level


def test_hevc_codec_string_from_hvcc_and_from_its_sps(tmp_path):
    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx265", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 192, "yuv420p"
        stream.codec_context.options = {"x265-params": "log-level=error"}
        for i in range(5):
            frame = av.VideoFrame(320, 192, "yuv420p")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    raw = tmp_path / "clip.hevc"
    with av.open(str(clip)) as src, av.open(str(raw), "w", format="hevc") as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.size:
                packet.stream = out
                dst.mux(packet)
    with av.open(str(clip)) as container:
        hvcc = container.streams.video[0].codec_context.extradata
    # the parameter sets at the head of the Annex B file (read from the bytes: what FFmpeg's raw demuxer puts in
    # extradata depends on its probing, which was seen to leave it empty on a loaded machine)
    annex_b = parameter_sets("hevc", raw.read_bytes()[:4096])
    text = codec_string("hevc", hvcc)
    assert text == codec_string("hevc", annex_b)
    assert text.startswith("hvc1.1.6.L")  # Main profile, Main-compatible, Main tier


def test_codecs_a_browser_cannot_take_as_they_are_are_refused_clearly():
    with pytest.raises(UnsupportedCodec, match="this stream is mpeg4"):
        codec_string("mpeg4", b"\x00\x00\x01\xb0\x01")
    with pytest.raises(UnsupportedCodec, match="no sequence parameter set"):
        codec_string("h264", b"\x00\x00\x00\x01\x68\xee\x3c\x80")  # a PPS only


def test_parameter_sets_are_found_in_a_keyframe(synthetic_clip, tmp_path):
    with av.open(str(raw_h264(synthetic_clip, tmp_path))) as container:
        extradata = container.streams.video[0].codec_context.extradata
        keyframe = bytes(next(p for p in container.demux(video=0) if p.size and p.is_keyframe))
    found = parameter_sets("h264", keyframe)
    assert [n[0] & 0x1F for n in nal_units(found)] == [7, 8]
    assert list(nal_units(found)) == list(nal_units(extradata))


# --- remuxing --------------------------------------------------------------------------------------------
def test_remuxed_fragments_decode_to_every_frame(synthetic_clip):
    started, fragments, fed = remux(synthetic_clip)
    assert started is not None and started.mime == 'video/mp4; codecs="avc1.64001e"'
    assert (started.width, started.height) == (640, 360)
    assert started.init[4:8] == b"ftyp" and b"moov" in started.init
    assert len(fragments) == len(fed) == 150, "one fragment per frame"
    assert [f.keyframe for f in fragments] == fed, "each fragment is flagged as its packet was"
    assert all(isinstance(f, Fragment) and f.samples == 1 and f.data[4:8] == b"moof" for f in fragments)
    times = [f.decode_time for f in fragments]
    assert times == sorted(set(times))
    assert timescale(started.init) > 0
    assert fragment_info(fragments[1].data).decode_time == fragments[1].decode_time
    data = started.init + b"".join(f.data for f in fragments)
    assert decoded_frames(data) == count_frames(synthetic_clip) == 150


@requires_shared_data
@pytest.mark.shared_data
def test_remuxed_real_footage_decodes_to_the_same_frames():
    clip = SHARED_DATA / "tampering" / "Occlusion.mp4"  # H.264 High 1280x720, 29.97 fps
    started, fragments, fed = remux(clip, limit=90)
    assert started is not None and started.mime == 'video/mp4; codecs="avc1.64001f"'
    assert fragments[0].keyframe and len(fragments) == len(fed) == 90
    assert decoded_frames(started.init + b"".join(f.data for f in fragments)) == count_frames(clip, limit=90)


def test_a_stream_joined_mid_gop_starts_at_its_next_keyframe(synthetic_clip):
    with av.open(str(synthetic_clip)) as container:
        stream = container.streams.video[0]
        remuxer = PacketRemux(stream)
        packets = [p for p in container.demux(stream) if p.size][10:]  # from frame 10 of a 25-frame GOP
        items = [item for p in packets for item in remuxer.feed(p)] + remuxer.close()
    assert isinstance(items[0], StreamStarted)
    assert items[1].keyframe and len(items) - 1 == 150 - 25


def test_broken_timestamps_do_not_break_the_stream(synthetic_clip, tmp_path):
    """The clip, the clip again from 0 (DTS back), the clip an hour later (DTS forward), a first packet without
    timestamps, and duplicated DTS: every packet is muxed, DTS keep increasing, and it all decodes."""
    broken = broken_timestamps_ts(synthetic_clip, tmp_path)

    def spoil(k, packet):
        if k == 0:
            packet.dts = packet.pts = None
        elif k in (40, 41, 200):
            packet.dts -= 3600  # equal to the previous packet's DTS (90 kHz, 25 fps)
            packet.pts = packet.dts

    started, fragments, fed = remux(broken, edit=spoil)
    assert started is not None and len(fragments) == len(fed) == 450
    times = [f.decode_time for f in fragments]
    assert times == sorted(set(times))
    steps = [b - a for a, b in itertools.pairwise(times)]
    frame = max(set(steps), key=steps.count)
    assert max(steps) <= 2 * frame, "the jumps back and the hour-long jump forward were rebased"
    assert decoded_frames(started.init + b"".join(f.data for f in fragments)) == 450


def test_a_raw_stream_without_any_timestamps_is_numbered(synthetic_clip, tmp_path):
    started, fragments, _ = remux(raw_h264(synthetic_clip, tmp_path))
    assert started is not None and len(fragments) == 150
    ticks = timescale(started.init)
    seconds = (fragments[-1].decode_time - fragments[0].decode_time) / ticks
    assert seconds == pytest.approx(149 / 25, rel=0.05), "numbered one frame apart at the stream's rate"


def test_fragment_info_reads_the_sync_flag_from_trun_or_tfhd():
    """fragment_info reads the sync flag from trun's first-sample flags or from tfhd's defaults."""
    tfhd = b"\x00\x00\x00\x20" + (1).to_bytes(4, "big") + (0x01010000).to_bytes(4, "big")
    trun = b"\x00\x00\x00\x01" + (1).to_bytes(4, "big") + (0).to_bytes(4, "big")
    tfdt = b"\x01\x00\x00\x00" + (12345).to_bytes(8, "big")
    traf_body = box(b"tfhd", tfhd) + box(b"tfdt", tfdt) + box(b"trun", trun)
    moof = box(b"moof", box(b"mfhd", bytes(8)) + box(b"traf", traf_body))
    info = fragment_info(moof)
    assert not info.keyframe and info.decode_time == 12345 and info.samples == 1
    trun_first = b"\x00\x00\x00\x05" + (1).to_bytes(4, "big") + bytes(4) + (0x02000000).to_bytes(4, "big")
    moof = box(b"moof", box(b"traf", box(b"tfhd", tfhd) + box(b"trun", trun_first)))
    assert fragment_info(moof).keyframe


def box(kind: bytes, body: bytes) -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body
