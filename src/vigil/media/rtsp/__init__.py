"""Vigil's own RTSP reader (RFC 2326 over TCP, RTP payloads of RFC 6184 / RFC 7798), used by the recorder.

    messages    requests and responses, Session / Transport / RTP-Info headers (no I/O)
    auth        Basic and Digest answers to a 401 challenge (no I/O)
    sdp         the DESCRIBE answer: media, payload types, parameter sets, control URLs (no I/O)
    interleaved splitting a TCP byte stream into ``$``-framed packets and RTSP messages (no I/O)
    depacketizer               RTP headers: sequence numbers (losses), 32-bit timestamps (wrap-around), access
                               units; what a loss drops
    h264, h265                 RTP payloads -> access units in length-prefixed (MP4) form
    parameter_sets             SPS parsing (picture size, frame rate) and avcC / hvcC records
    client      the socket: handshake, authentication, keep-alive, large reads
    tls         rtsps:// with TLS run in memory, so reads stay large
    source      one camera stream for the recorder: access units with timestamps

Errors are :class:`vigil.domain.errors.SourceError` with a gap cause (``auth_failed``, ``stream_error`` ...).
"""
