"""RTSP messages, authentication answers and the interleaved byte stream, from byte-level fixtures."""

import random

import pytest

from support.rtp import interleave
from vigil.media.rtsp.auth import Authenticator, Credentials, choose, parse_challenges
from vigil.media.rtsp.interleaved import ReceiveBuffer
from vigil.media.rtsp.messages import (
    Request,
    RtspProtocolError,
    parse_response,
    parse_rtp_info,
    parse_session,
    parse_transport,
)

UNAUTHORIZED = (
    b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
    b'WWW-Authenticate: Digest realm="IP Camera", nonce="a1b2c3",\r\n stale="FALSE"\r\n'
    b'WWW-Authenticate: Basic realm="IP Camera"\r\n\r\n'
)


def test_a_response_with_repeated_and_folded_headers():
    head, _, body = UNAUTHORIZED.partition(b"\r\n\r\n")
    response = parse_response(head + b"\r\n\r\n", body)
    assert (response.status, response.reason, response.cseq) == (401, "Unauthorized", 2)
    challenges = parse_challenges(response.all("WWW-Authenticate"))
    assert [c.scheme for c in challenges] == ["digest", "basic"]
    assert challenges[0].params == {"realm": "IP Camera", "nonce": "a1b2c3", "stale": "FALSE"}
    assert choose(challenges).scheme == "digest", "Digest is preferred"


def test_requests_carry_cseq_and_length():
    data = Request("SET_PARAMETER", "rtsp://h/a", {"Session": "42"}, b"x: 1\r\n").encode(7)
    assert data.startswith(b"SET_PARAMETER rtsp://h/a RTSP/1.0\r\nCSeq: 7\r\n")
    assert b"Session: 42\r\n" in data and data.endswith(b"Content-Length: 6\r\n\r\nx: 1\r\n")


def test_headers_of_setup_and_play():
    assert parse_session("1A2B3C;timeout=30") == parse_session(" 1A2B3C ; timeout=30")
    assert parse_session("1A2B3C").timeout_s == 60.0
    transport = parse_transport('RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=5F1A2B3C;mode="PLAY"')
    assert (transport.interleaved, transport.ssrc, transport.lower_transport) == ((2, 3), 0x5F1A2B3C, "TCP")
    assert parse_transport("RTP/AVP;unicast;client_port=5000-5001").interleaved is None
    info = "url=rtsp://h/a/trackID=1;seq=17;rtptime=4000000000,url=rtsp://h/a/trackID=2;seq=9"
    assert parse_rtp_info(info, "rtsp://h/a/trackID=1") == (17, 4000000000)


@pytest.mark.parametrize(
    "bad",
    [b"HTTP/1.1 200 OK\r\n\r\n", b"RTSP/1.0 abc OK\r\n\r\n", b"RTSP/1.0 200 OK\r\nno colon here\r\n\r\n"],
)
def test_malformed_responses_are_protocol_errors(bad):
    with pytest.raises(RtspProtocolError):
        parse_response(bad)
    with pytest.raises(RtspProtocolError):
        parse_transport("RTP/AVP/TCP;interleaved=x-y")
    with pytest.raises(RtspProtocolError):
        parse_session(";timeout=5")


def test_digest_answers_match_the_rfc_examples():
    """RFC 2617 3.5 (MD5, qop=auth) and RFC 7616 3.9.1 (SHA-256)."""
    md5 = 'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
    md5 += 'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    auth = Authenticator(Credentials("Mufasa", "Circle Of Life"), choose(parse_challenges([md5])))
    auth._cnonce = "0a4f113b"
    header = auth.header("GET", "/dir/index.html")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header and "nc=00000001" in header
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header
    sha = 'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
    sha += 'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    auth = Authenticator(Credentials("Mufasa", "Circle of Life"), choose(parse_challenges([sha, md5])))
    auth._cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in auth.header(
        "GET", "/dir/index.html"
    )


def test_basic_and_digest_without_qop():
    basic = Authenticator(Credentials("admin", "pa:ss"), choose(parse_challenges(['Basic realm="x"'])))
    assert basic.header("DESCRIBE", "rtsp://h/") == "Basic YWRtaW46cGE6c3M="
    plain = Authenticator(Credentials("u", "p"), choose(parse_challenges(['Digest realm="r", nonce="n"'])))
    header = plain.header("DESCRIBE", "rtsp://h/a")
    assert "qop" not in header and 'uri="rtsp://h/a"' in header
    assert repr(Credentials("u", "secret")).count("secret") == 0
    with pytest.raises(RtspProtocolError, match=r"(?i)ntlm"):
        choose(parse_challenges(['NTLM realm="x"']))


def frames_and_messages():
    rng = random.Random(5)
    packets = [bytes([0x80, 96]) + bytes(rng.randrange(256) for _ in range(rng.randrange(10, 3000))) for _ in range(60)]
    reply = b"RTSP/1.0 200 OK\r\nCSeq: 9\r\nContent-Length: 5\r\n\r\nhello"
    request = b"GET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 3\r\n\r\n"
    stream = interleave(packets[:20]) + reply + interleave(packets[20:40]) + interleave([b"rtcp"], channel=1)
    stream += request + b"\x00garbage\xff" + interleave(packets[40:])
    return packets, stream, reply, request


@pytest.mark.parametrize("chunk", [1, 7, 1500, 65536])
def test_the_interleaved_stream_splits_whatever_the_read_sizes(chunk):
    packets, stream, reply, request = frames_and_messages()
    buffer, got, messages = ReceiveBuffer(256 * 1024), [], []
    for at in range(0, len(stream), chunk):
        piece = stream[at : at + chunk]
        buffer.space()[: len(piece)] = piece
        buffer.filled(len(piece))
        buffer.split(0, lambda view, start, end: got.append(bytes(view[start:end])), messages)
    assert got == packets
    assert [m.head + m.body for m in messages] == [reply, request]
    assert buffer.frames == {1: 1} and buffer.skipped_bytes == len(b"\x00garbage\xff")
    assert buffer.pending() == 0
