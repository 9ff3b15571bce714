"""H.265 depacketizing (RFC 7798): a real libx265 clip packetized here (single NAL units, aggregation packets,
fragmentation units; with and without DONL) comes out byte for byte; a lost fragment drops its picture."""

import struct

from support.rtp import ClipUnit, RtpPacketizer, clip_units, parameter_sets_of, split_lengths
from vigil.media.rtsp.h265 import H265Depacketizer


def feed(depack, packets):
    for packet in packets:
        depack.push(packet, 0, len(packet))
    out = list(depack.ready)
    depack.ready.clear()
    return out


def with_don(packets):
    """Insert DONL / DOND fields as a sender with sprop-max-don-diff > 0 would (values are not checked)."""
    out = []
    for packet in packets:
        head, payload = packet[:12], packet[12:]
        kind = (payload[0] >> 1) & 0x3F
        if kind == 49:  # FU: DONL only in the first fragment
            extra = b"\x00\x07" if payload[2] & 0x80 else b""
            out.append(head + payload[:3] + extra + payload[3:])
        elif kind == 48:  # AP: DONL before the first unit, DOND before the others
            at, body, first = 2, bytearray(payload[:2]), True
            while at < len(payload):
                size = struct.unpack_from(">H", payload, at)[0]
                body += (b"\x00\x07" if first else b"\x01") + payload[at : at + 2 + size]
                at += 2 + size
                first = False
            out.append(head + bytes(body))
        else:
            out.append(head + payload[:2] + b"\x00\x07" + payload[2:])
    return out


def round_trip(clip, don=False, mtu=1000):
    pay = RtpPacketizer(mtu=mtu, hevc=True)
    params = parameter_sets_of(clip)
    sent = [  # parameter sets in-band before every keyframe, as cameras send them
        ClipUnit(u.pts, u.keyframe, params + u.units if u.keyframe else u.units) for u in clip_units(clip)
    ]
    packets = [p for unit in sent for p in pay.packets(unit.units, unit.pts)]
    if don:
        packets = with_don(packets)
    depack = H265Depacketizer(96, parameter_sets_of(clip), with_don=don)
    return sent, packets, depack


def test_a_real_clip_round_trips_byte_for_byte(hevc_clip):
    sent, packets, depack = round_trip(hevc_clip)
    kinds = {(p[12] >> 1) & 0x3F for p in packets}
    assert {48, 49} <= kinds, "aggregation packets and fragmentation units both occur"
    units = feed(depack, packets)
    assert len(units) == len(sent)
    for got, want in zip(units, sent, strict=True):
        assert split_lengths(bytes(got.data)) == want.units and got.is_keyframe == want.keyframe
    config = units[0].config
    assert (config.codec, config.width, config.height) == ("hevc", 640, 360)
    assert depack.stats.dropped_units == 0


def test_decoding_order_numbers_are_skipped(hevc_clip):
    sent, packets, depack = round_trip(hevc_clip, don=True)
    units = feed(depack, packets)
    assert [split_lengths(bytes(u.data)) for u in units] == [u.units for u in sent]


def test_a_lost_fragment_drops_its_picture_until_the_next_keyframe(hevc_clip):
    sent, packets, depack = round_trip(hevc_clip, mtu=300)
    fragments = [k for k, p in enumerate(packets) if (p[12] >> 1) & 0x3F == 49 and not p[14] & 0xC0]
    del packets[fragments[len(fragments) // 3]]  # a middle fragment, somewhere in the first seconds
    units = feed(depack, packets)
    assert depack.stats.lost_packets == 1 and depack.stats.damaged_units == 1
    assert len(units) == len(sent) - depack.stats.dropped_units
    kept = {u.pts for u in units}
    first_missing = min(u.pts for u in sent if u.pts not in kept)
    resumed = min(u.pts for u in units if u.pts > first_missing)
    assert next(u for u in sent if u.pts == resumed).keyframe, "writing resumes at a keyframe"


def test_config_from_sdp_parameter_sets_matches_ffmpegs_record(hevc_clip):
    with_sdp = H265Depacketizer(96, parameter_sets_of(hevc_clip)).config()
    assert with_sdp is not None and (with_sdp.width, with_sdp.height) == (640, 360)
    import av

    with av.open(str(hevc_clip)) as container:
        ffmpeg_record = bytes(container.streams.video[0].codec_context.extradata)
    assert with_sdp.record[:13] == ffmpeg_record[:13], "profile, tier, compatibility, constraints, level"
    assert with_sdp.record[16:18] == ffmpeg_record[16:18], "chroma format and bit depths"
