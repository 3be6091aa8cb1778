"""The client frame codec against websockets' own server-side protocol.

The peer in every test is ``websockets.server.ServerProtocol``: it checks
our frames (masking, lengths, opcodes) and writes the server's frames our
codec must read, fragmented and interleaved as RFC 6455 allows.
"""

from __future__ import annotations

import random

import pytest
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import (
    ServerPerMessageDeflateFactory,
    enable_client_permessage_deflate,
)
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from zaqarkit.transports._frames import FrameCodec, ProtocolFraming


def open_server() -> ServerProtocol:
    server = ServerProtocol(max_size=None)
    server.state = State.OPEN
    server.parser = server.parse()
    next(server.parser)
    return server


def server_bytes(server: ServerProtocol) -> bytes:
    return b"".join(server.data_to_send())


def feed_in_pieces(codec: FrameCodec, data: bytes, seed: int) -> list[str | bytes]:
    """Feed ``data`` in random cuts (single bytes included): frames split anywhere."""
    rng = random.Random(seed)
    messages: list[str | bytes] = []
    at = 0
    while at < len(data):
        step = rng.choice((1, 2, 3, 7, 50, 200_000))
        messages += codec.receive(data[at : at + step])
        at += step
    return messages


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65_535, 65_536, 300_000])
def test_our_frames_are_what_a_server_reads(size: int) -> None:
    codec, server = FrameCodec(max_size=None), open_server()
    text = "é" * (size // 2) + "x" * (size % 2)
    server.receive_data(codec.message(text) + codec.message(b"\x00" * size))
    text_frame, binary_frame = server.events_received()
    assert (text_frame.opcode, text_frame.fin, text_frame.data.decode()) == (
        Opcode.TEXT,
        True,
        text,
    )
    assert (binary_frame.opcode, bytes(binary_frame.data)) == (Opcode.BINARY, b"\x00" * size)


def test_every_frame_gets_a_fresh_mask() -> None:
    codec = FrameCodec(max_size=None)
    keys = {codec.message("same")[2:6] for _ in range(2000)}  # across the random pool's refills
    assert len(keys) > 1990


def test_server_messages_fragmented_and_interleaved_with_pings() -> None:
    server = open_server()
    server.send_text(b"hel", fin=False)
    server.send_ping(b"p1")
    server.send_continuation(b"lo", fin=False)
    server.send_continuation(b" \xc3\xa9", fin=True)  # the é split from nothing: whole here
    server.send_binary(b"\x01\x02" * 40_000)
    server.send_pong(b"ignored")
    data = server_bytes(server)
    for seed in range(20):
        codec = FrameCodec(max_size=None)
        assert feed_in_pieces(codec, data, seed) == ["hello é", b"\x01\x02" * 40_000]
        (pong,) = codec.data_to_send()
        server.receive_data(pong)
        (event,) = server.events_received()
        assert (event.opcode, bytes(event.data)) == (Opcode.PONG, b"p1")
        assert codec.open


def test_utf8_split_across_fragments_is_joined_before_decoding() -> None:
    server = open_server()
    server.send_text("é".encode()[:1], fin=False)
    server.send_continuation("é".encode()[1:], fin=True)
    assert FrameCodec(max_size=None).receive(server_bytes(server)) == ["é"]


def test_a_server_close_is_answered_with_its_code_and_ends_the_connection() -> None:
    server = open_server()
    server.send_close(4003, "token expired")
    codec = FrameCodec(max_size=None)
    assert codec.receive(server_bytes(server)) == []
    assert (codec.ended, codec.close_code, codec.close_reason) == (True, 4003, "token expired")
    (answer,) = codec.data_to_send()
    server.receive_data(answer)
    assert server.close_rcvd == Close(4003, "")
    with pytest.raises(ConnectionError):
        codec.message("too late")


def test_our_close_then_the_servers_reply() -> None:
    codec, server = FrameCodec(max_size=None), open_server()
    (frame,) = codec.close(1000)
    assert not codec.open
    assert codec.ping(b"x") == []
    assert codec.close() == []
    server.receive_data(frame)
    assert server.close_rcvd == Close(1000, "")
    assert codec.receive(server_bytes(server)) == []  # the server echoes it
    assert codec.data_to_send() == []  # a close already sent is not sent again
    assert (codec.ended, codec.close_code) == (True, 1000)


def test_an_empty_close_frame_is_code_1005_and_echoed_empty() -> None:
    codec = FrameCodec(max_size=None)
    codec.receive(b"\x88\x00")
    assert codec.close_code == 1005
    (answer,) = codec.data_to_send()
    assert answer[1] & 0x7F == 0


def test_eof_ends_with_1006() -> None:
    codec = FrameCodec(max_size=None)
    codec.receive(b"\x81\x05hel")  # half a frame, then the TCP connection ends
    codec.receive_eof()
    assert (codec.ended, codec.close_code) == (True, 1006)
    assert codec.receive(b"lo") == []


VIOLATIONS = [
    ("masked", b"\x81\x82abcd" + bytes(2), 1002, "masked"),
    ("reserved bit", b"\xc1\x02hi", 1002, "reserved bits"),
    ("lone continuation", b"\x80\x02hi", 1002, "continuation"),
    ("message inside a message", b"\x01\x02hi\x81\x02hi", 1002, "before the last"),
    ("unknown opcode", b"\x83\x00", 1002, "unknown opcode 3"),
    ("unknown control opcode", b"\x8b\x00", 1002, "unknown control opcode 11"),
    ("fragmented ping", b"\x09\x00", 1002, "control frame"),
    ("ping over 125 bytes", b"\x89\x7e\x00\x7e" + bytes(126), 1002, "control frame"),
    ("invalid utf-8", b"\x81\x02\xc3\x28", 1007, "UTF-8"),
    ("one-byte close", b"\x88\x01\x03", 1002, "one-byte"),
    ("close code 1006 in a frame", b"\x88\x02\x03\xee", 1002, "invalid code 1006"),
    ("close reason not utf-8", b"\x88\x03\x03\xe8\xff", 1007, "close reason"),
]


@pytest.mark.parametrize(
    ("frames", "code", "why"), [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
def test_protocol_violations_close_with_the_matching_code(
    frames: bytes, code: int, why: str
) -> None:
    codec, server = FrameCodec(max_size=None), open_server()
    assert codec.receive(frames + b"\x81\x05after") == []  # nothing after the violation
    assert codec.ended
    assert codec.close_code == 1006
    assert why in codec.close_reason
    assert f"closed with {code}" in codec.close_reason
    (close,) = codec.data_to_send()
    server.receive_data(close)
    assert server.close_rcvd is not None
    assert server.close_rcvd.code == code


def test_a_message_over_max_size_is_refused_before_it_is_buffered() -> None:
    codec = FrameCodec(max_size=1000)
    assert codec.receive(b"\x81\x7e\x03\xe8" + bytes(10)) == []  # 1000 bytes: allowed so far
    assert codec.open
    codec = FrameCodec(max_size=1000)
    # A 64-bit length announcing 2 GiB: refused from the header alone.
    codec.receive(b"\x82\x7f" + (2**31).to_bytes(8, "big"))
    assert codec.ended
    assert "max_size" in codec.close_reason
    codec = FrameCodec(max_size=1000)
    codec.receive(b"\x01\x7e\x01\xf4" + bytes(500) + b"\x80\x7e\x01\xf5" + bytes(501))
    assert codec.ended  # 500 + 501 fragments add up past it


def deflate_pair() -> tuple[ClientProtocol, ServerProtocol]:
    """A client and a server that agreed on permessage-deflate, in memory."""
    client = ClientProtocol(
        parse_uri("ws://zaqar.test/"), extensions=enable_client_permessage_deflate(None)
    )
    server = ServerProtocol(extensions=[ServerPerMessageDeflateFactory()])
    client.send_request(client.connect())
    server.receive_data(b"".join(client.data_to_send()))
    (request,) = server.events_received()
    server.send_response(server.accept(request))
    client.receive_data(b"".join(server.data_to_send()))
    client.events_received()
    assert client.extensions, "deflate was not agreed"
    return client, server


def test_protocol_framing_carries_deflated_messages_both_ways() -> None:
    client, server = deflate_pair()
    framing = ProtocolFraming(client)
    server.receive_data(framing.message('{"action": "queue_list"}') + framing.message(b"\x00\x01"))
    sent = server.events_received()
    assert [(f.opcode, bytes(f.data)) for f in sent] == [
        (Opcode.TEXT, b'{"action": "queue_list"}'),
        (Opcode.BINARY, b"\x00\x01"),
    ]
    assert all(isinstance(f, Frame) and f.rsv1 is False for f in sent)  # inflated by the peer
    server.send_text(b"part ", fin=False)
    server.send_continuation(b"two", fin=True)
    server.send_ping(b"p")
    assert framing.receive(server_bytes(server)) == ["part two"]
    assert framing.data_to_send()  # websockets answers the ping itself
    server.send_close(1000)
    framing.receive(server_bytes(server))
    assert (framing.open, framing.close_code) == (False, 1000)
