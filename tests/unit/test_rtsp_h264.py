"""H.264 depacketizing (RFC 6184) from byte-level fixtures and from a real clip packetized here: access units
come out exactly as they went in; losses drop the damaged picture (and what depends on it) and are counted;
malformed input never raises."""

import random
import struct

import pytest

from support.rtp import RtpPacketizer, clip_units, parameter_sets_of, split_lengths
from vigil.media.rtsp.depacketizer import AccessUnit
from vigil.media.rtsp.h264 import H264Depacketizer

SPS = bytes.fromhex("6764001eacb405017fcb080000030008000003019078b175")  # 640x360, from the synthetic clip
PPS = bytes.fromhex("68ef09cb")
IDR = bytes([0x65, 0x88]) + bytes(range(256)) * 12  # first_mb_in_slice = 0 (first bit 1)
P = bytes([0x41, 0x9A]) + bytes(range(200))  # a reference P slice
NON_REF = bytes([0x01, 0x9E]) + bytes(50)  # nal_ref_idc 0


def feed(depack, packets):
    for packet in packets:
        depack.push(packet, 0, len(packet))
    out = list(depack.ready)
    depack.ready.clear()
    return out


def nals(unit: AccessUnit) -> list[bytes]:
    return split_lengths(bytes(unit.data))


def stream(pay, pictures, start_ts=90000, step=3600):
    """Packets for a list of access units (lists of NAL units), one frame apart."""
    packets = []
    for k, units in enumerate(pictures):
        packets.append(pay.packets(units, start_ts + k * step))
    return packets


def test_single_stap_and_fragmented_units_come_out_whole():
    pay = RtpPacketizer(mtu=1000)
    depack = H264Depacketizer(96)
    pictures = [[SPS, PPS, IDR], [P], [NON_REF], [P]]
    groups = stream(pay, pictures)
    assert groups[0][0][12] & 0x1F == 24, "SPS and PPS travel in a STAP-A"
    assert any(p[12] & 0x1F == 28 for p in groups[0]), "the IDR slice is fragmented (FU-A)"
    units = feed(depack, [p for g in groups for p in g])
    assert [nals(u) for u in units] == pictures
    assert [u.is_keyframe for u in units] == [True, False, False, False]
    assert [u.pts for u in units] == [90000, 93600, 97200, 100800]
    assert (units[0].config.width, units[0].config.height) == (640, 360)
    assert depack.stats.units == 4 and depack.stats.dropped_units == 0 and depack.stats.lost_packets == 0


def test_access_units_end_at_a_new_timestamp_when_the_marker_bit_is_missing():
    pay = RtpPacketizer(mtu=5000)
    depack = H264Depacketizer(96, [SPS, PPS])
    packets = [pay.header(1000, marker=False) + IDR, pay.header(4600, marker=False) + P]
    units = feed(depack, packets)
    assert [nals(u) for u in units] == [[IDR]], "the second waits for its end"
    depack.flush()
    assert depack.stats.damaged_units == 1, "a picture never finished is dropped, and counted"


def test_parameter_sets_sent_alone_join_the_next_picture():
    """Some cameras send SPS/PPS with the marker bit set, or with the previous frame's timestamp."""
    pay = RtpPacketizer(aggregate=False)
    depack = H264Depacketizer(96)
    packets = [pay.header(1000, True) + SPS, pay.header(1000, True) + PPS, *pay.packets([IDR], 4600)]
    units = feed(depack, packets)
    assert len(units) == 1 and nals(units[0]) == [SPS, PPS, IDR] and units[0].pts == 4600
    assert units[0].config.width == 640


def test_sdp_parameter_sets_configure_a_stream_without_in_band_ones():
    units = feed(H264Depacketizer(96, [SPS, PPS]), RtpPacketizer().packets([IDR], 0))
    assert units[0].is_keyframe and units[0].config.height == 360
    assert feed(H264Depacketizer(96), RtpPacketizer().packets([IDR], 0)) == [], "no parameter sets: not written"


def test_a_changed_sps_makes_a_new_configuration_at_the_next_keyframe():
    other_sps = bytes.fromhex("6764001facb402802dd0800000030080000019078c1950")  # 1280x720
    depack = H264Depacketizer(96, [SPS, PPS])
    pay = RtpPacketizer()
    first = feed(depack, pay.packets([IDR], 0) + pay.packets([P], 3600))
    second = feed(depack, pay.packets([other_sps, PPS, IDR], 7200) + pay.packets([P], 10800))
    assert first[0].config is first[1].config
    assert second[0].config is not first[0].config and second[0].config is second[1].config
    assert (second[0].config.width, second[0].config.height) == (1280, 720)
    repeated = feed(depack, pay.packets([other_sps, PPS, IDR], 14400))
    assert repeated[0].config is second[0].config, "the same parameter sets again: the same configuration"


def test_a_lost_fragment_drops_the_picture_and_what_depends_on_it_until_the_next_keyframe():
    pay = RtpPacketizer(mtu=500)
    depack = H264Depacketizer(96, [SPS, PPS])
    groups = stream(pay, [[IDR], [P], [P], [IDR], [P]])
    groups[0] = groups[0][:3] + groups[0][4:]  # a middle FU-A fragment of the first IDR is lost
    units = feed(depack, [p for g in groups for p in g])
    assert [u.pts for u in units] == [90000 + 3 * 3600, 90000 + 4 * 3600], "only the next keyframe and after"
    assert nals(units[0]) == [IDR]
    s = depack.stats
    assert (s.lost_packets, s.damaged_units, s.skipped_units) == (1, 1, 2)


def test_a_lost_non_reference_picture_costs_only_itself():
    pay = RtpPacketizer(mtu=20, aggregate=False)
    depack = H264Depacketizer(96, [SPS, PPS])
    groups = stream(pay, [[IDR[:40]], [NON_REF], [P[:30]]])
    groups[1] = groups[1][:1] + groups[1][2:]  # inside the non-reference picture (same timestamp both sides)
    units = feed(depack, [p for g in groups for p in g])
    assert [u.pts for u in units] == [90000, 97200]
    assert (depack.stats.damaged_units, depack.stats.skipped_units) == (1, 0)


def test_a_whole_lost_picture_waits_for_the_next_keyframe():
    pay = RtpPacketizer()
    depack = H264Depacketizer(96, [SPS, PPS])
    groups = stream(pay, [[IDR], [P], [P], [P], [IDR]])
    del groups[1]  # every packet of the second picture: the next ones refer to it
    units = feed(depack, [p for g in groups for p in g])
    assert [u.is_keyframe for u in units] == [True, True]
    assert depack.stats.skipped_units == 2 and depack.stats.lost_packets == 1


def test_timestamps_and_sequence_numbers_wrap_around():
    pay = RtpPacketizer(seq=0xFFFE)
    depack = H264Depacketizer(96, [SPS, PPS])
    start = 0xFFFFFFFF - 3600 * 2 + 1
    units = feed(depack, [p for g in stream(pay, [[IDR], [P], [P], [P]], start_ts=start) for p in g])
    assert [u.pts for u in units] == [start + k * 3600 for k in range(4)], "extended past 2**32"
    assert depack.stats.lost_packets == 0


def test_duplicates_late_packets_and_other_payload_types_are_skipped():
    pay = RtpPacketizer()
    depack = H264Depacketizer(96, [SPS, PPS])
    idr, p = pay.packets([IDR[:100]], 0), pay.packets([P], 3600)
    other = RtpPacketizer(payload_type=97).packets([P], 3600)
    units = feed(depack, [*idr, *idr, *other, *p])
    assert len(units) == 2
    assert depack.stats.late_packets == 1 and depack.stats.other_packets == 1


def test_padding_and_header_extensions_are_removed():
    depack = H264Depacketizer(96, [SPS, PPS])
    head = bytearray(RtpPacketizer().header(0, marker=True, padding=3))
    head[0] |= 0x10  # extension: profile 0xBEDE, one word
    packet = bytes(head) + b"\xbe\xde\x00\x01" + b"\x11\x22\x33\x44" + IDR[:64] + b"\x00\x00\x03"
    units = feed(depack, [packet])
    assert nals(units[0]) == [IDR[:64]]


@pytest.mark.parametrize("seed", range(40))
def test_malformed_packets_never_raise_and_never_reach_the_output(seed):
    rng = random.Random(seed)
    pay = RtpPacketizer(mtu=300)
    good = [p for g in stream(pay, [[SPS, PPS, IDR], [P], [P], [SPS, PPS, IDR], [P]]) for p in g]
    depack = H264Depacketizer(96)
    broken = list(good)
    for _ in range(5):
        k = rng.randrange(len(broken))
        packet = bytearray(broken[k])
        choice = rng.randrange(4)
        if choice == 0:
            packet = packet[: rng.randrange(0, len(packet))]  # truncated
        elif choice == 1:
            for _ in range(8):
                packet[rng.randrange(12, len(packet))] = rng.randrange(256)  # payload bytes changed
        elif choice == 2:
            packet = packet[:12] + bytes(rng.randrange(256) for _ in range(rng.randrange(40)))  # garbage payload
        else:
            packet[12:14] = bytes([24, 0xFF])  # a STAP-A announcing more than it holds
        broken[k] = bytes(packet)
    units = feed(depack, broken)
    for unit in units:  # whatever comes out is well-formed: whole NAL units, forbidden bit clear
        data, at = bytes(unit.data), 0
        while at < len(data):
            size = struct.unpack_from(">I", data, at)[0]
            assert size > 0 and at + 4 + size <= len(data) and not data[at + 4] & 0x80
            at += 4 + size
        assert at == len(data) and unit.size == len(data)


def test_a_broken_packet_costs_its_picture_and_what_depends_on_it_nothing_more():
    pay = RtpPacketizer()
    depack = H264Depacketizer(96, [SPS, PPS])
    groups = stream(pay, [[IDR[:300]], [P], [P], [P], [IDR[:300]], [P]])
    head = groups[2][0][:12]
    groups[2] = [head + bytes([24, 0x7F, 0xFF]) + P[:10]]  # a STAP-A announcing more than it holds
    units = feed(depack, [p for g in groups for p in g])
    assert [u.pts for u in units] == [90000 + k * 3600 for k in (0, 1, 4, 5)]
    assert depack.stats.malformed_packets == 1 and depack.stats.damaged_units == 1


def test_a_real_clip_round_trips_byte_for_byte(synthetic_clip):
    pay = RtpPacketizer(mtu=1200)
    depack = H264Depacketizer(96, parameter_sets_of(synthetic_clip))
    sent = list(clip_units(synthetic_clip))
    packets = [p for unit in sent for p in pay.packets(unit.units, 5000 + unit.pts)]
    units = feed(depack, packets)
    assert len(units) == len(sent)
    for got, want in zip(units, sent, strict=True):
        assert nals(got) == want.units and got.is_keyframe == want.keyframe and got.pts == 5000 + want.pts
    assert (units[0].config.width, units[0].config.height) == (640, 360)


def test_a_malformed_packet_damages_its_own_picture_only():
    pay = RtpPacketizer()
    depack = H264Depacketizer(96, [SPS, PPS])
    groups = [pay.packets([IDR[:300]], 0)]
    head = bytearray(pay.header(3600, marker=True))
    head[0] |= 0x10  # an extension flag with no room for the extension
    groups += [[bytes(head) + b"\x00"], pay.packets([IDR[:300]], 7200)]
    units = feed(depack, [p for g in groups for p in g])
    assert [u.pts for u in units] == [0, 7200]
    assert depack.stats.malformed_packets == 1 and depack.stats.damaged_units == 1


def test_a_sender_that_restarts_its_sequence_numbers_is_followed():
    pay = RtpPacketizer(seq=40000)
    depack = H264Depacketizer(96, [SPS, PPS])
    before = feed(depack, pay.packets([IDR[:300]], 0))
    pay.seq = 30000  # far "behind": looks late at first
    after = feed(depack, [p for k in range(1, 80) for p in pay.packets([IDR[:300]] if k % 25 == 0 else [P], k * 3600)])
    assert len(before) == 1 and after, "taken again after a run of 64 'late' packets"
    assert after[0].is_keyframe and depack.stats.late_packets == 64
