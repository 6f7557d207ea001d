"""A blocking Kafka readiness probe: ApiVersions, then Metadata, over a plain socket.

The launcher is synchronous and polls many times per second while a broker starts; a raw
round trip costs a millisecond and needs no event loop, where an aiokafka client would need
one and a bootstrap dance per attempt. Metadata also proves the broker advertises the address
we expect: a wrong advertised listener otherwise shows up much later as clients that connect
once and then hang.
"""

from __future__ import annotations

import socket
import struct

_API_VERSIONS = 18
_METADATA = 3
_CLIENT_ID = b"aptt-local-probe"


class KafkaProbeError(RuntimeError):
    pass


def _request(sock: socket.socket, api_key: int, correlation_id: int, body: bytes) -> bytes:
    # Request header v1: api_key, api_version (0 here), correlation_id, client_id.
    header = struct.pack(">hhih", api_key, 0, correlation_id, len(_CLIENT_ID)) + _CLIENT_ID
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _read_exactly(sock, 4))
    response = _read_exactly(sock, size)
    (answered_id,) = struct.unpack_from(">i", response)
    if answered_id != correlation_id:
        raise KafkaProbeError(f"correlation id {answered_id} != {correlation_id}")
    return response[4:]


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise KafkaProbeError("broker closed the connection")
        chunks += chunk
    return bytes(chunks)


def _brokers(metadata_v0: bytes) -> list[tuple[int, str, int]]:
    (count,) = struct.unpack_from(">i", metadata_v0, 0)
    offset = 4
    brokers = []
    for _ in range(count):
        node_id, host_len = struct.unpack_from(">ih", metadata_v0, offset)
        offset += 6
        host = metadata_v0[offset : offset + host_len].decode("utf-8")
        offset += host_len
        (port,) = struct.unpack_from(">i", metadata_v0, offset)
        offset += 4
        brokers.append((node_id, host, port))
    return brokers


def probe_kafka(host: str, port: int, timeout: float = 1.0) -> list[tuple[int, str, int]]:
    """Return the brokers the cluster advertises; raise unless host:port is among them."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        versions = _request(sock, _API_VERSIONS, 1, b"")
        (error_code,) = struct.unpack_from(">h", versions)
        if error_code != 0:
            raise KafkaProbeError(f"ApiVersions answered error code {error_code}")
        # Metadata v0 with an empty topic list means all topics; it never creates one.
        brokers = _brokers(_request(sock, _METADATA, 2, struct.pack(">i", 0)))
    if (host, port) not in {(b_host, b_port) for _, b_host, b_port in brokers}:
        raise KafkaProbeError(f"broker advertises {brokers}, not {host}:{port}")
    return brokers
