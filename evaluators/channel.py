"""Messages between the judge, the zygote and the runners: one JSON object per SOCK_SEQPACKET datagram.

Datagrams keep message boundaries and may carry file descriptors (shared-memory regions, a runner's own
socket).  JSON only: the judge never unpickles anything a sandboxed process sent, and caps what it reads.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time

MAX_MESSAGE_BYTES = 1 << 20
MAX_FDS = 4


class ChannelClosed(Exception):
    """The other end hung up or sent something that is not one of our messages."""


class Channel:
    def __init__(self, sock: socket.socket):
        self.sock = sock

    @classmethod
    def pair(cls) -> tuple[Channel, socket.socket]:
        """Our end, and the other end as a socket to hand to a child process."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        return cls(ours), theirs

    @classmethod
    def from_fd(cls, fd: int) -> Channel:
        return cls(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=fd))

    def send(self, message: dict, fds: tuple[int, ...] = ()) -> None:
        data = json.dumps(message).encode()
        try:
            if fds:
                socket.send_fds(self.sock, [data], list(fds))
            else:
                self.sock.send(data)
        except OSError as exc:
            raise ChannelClosed(f"send failed: {exc}") from exc

    def poll(self, timeout: float) -> bool:
        readable, _, _ = select.select([self.sock], [], [], max(timeout, 0.0))
        return bool(readable)

    def receive(self, deadline: float | None = None) -> tuple[dict, list[int]] | None:
        """The next message and any descriptors it carried; None when the deadline passes first."""
        if deadline is not None and not self.poll(deadline - time.monotonic()):
            return None
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE_BYTES, MAX_FDS)
        except OSError as exc:
            raise ChannelClosed(f"receive failed: {exc}") from exc
        try:
            return _decode(data), fds
        except ChannelClosed:
            for fd in fds:
                _close_quietly(fd)
            raise

    def expect_credentials(self) -> None:
        """Have the kernel attach the sender's credentials to every message we receive."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

    def receive_sender_pid(self, deadline: float) -> tuple[dict, int] | None:
        """The next message and the pid of the process that sent it, as the kernel translated it into our PID
        namespace (the sender cannot forge another process's pid)."""
        if not self.poll(deadline - time.monotonic()):
            return None
        size = struct.calcsize("3i")
        try:
            data, ancillary, _, _ = self.sock.recvmsg(MAX_MESSAGE_BYTES, socket.CMSG_SPACE(size))
        except OSError as exc:
            raise ChannelClosed(f"receive failed: {exc}") from exc
        message = _decode(data)
        pid = next((struct.unpack("3i", payload[:size])[0] for level, kind, payload in ancillary
                    if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS), None)
        if pid is None:
            raise ChannelClosed("no sender credentials on the message")
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 0)
        return message, pid

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()


def _decode(data: bytes) -> dict:
    """One of our messages, or ChannelClosed: an empty read is a hang-up, anything else malformed is refused."""
    if not data:
        raise ChannelClosed("the other end closed the channel")
    try:
        message = json.loads(data)
    except ValueError as exc:
        raise ChannelClosed(f"not a JSON message ({len(data)} bytes)") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ChannelClosed("a message without a type")
    return message


def _close_quietly(fd: int) -> None:
    import os

    try:
        os.close(fd)
    except OSError:
        pass
