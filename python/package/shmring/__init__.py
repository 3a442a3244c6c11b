# SPDX-License-Identifier: MIT
"""shmring: messages between processes on one host through a named
shared-memory ring, at memory speed.

    import shmring

    with shmring.create("prices", "producer") as tx:      # process A
        tx.send(b"tick")                                  # any bytes-like

    with shmring.open("prices", "consumer") as rx:        # process B
        for msg in rx:                                    # ends at end of stream
            print(msg)

Timeouts are seconds (float); None waits forever, 0 never blocks. Errors
are shmring.Error (an OSError) with one subclass per library code. The
manual is docs/python.md in the shmring repository.
"""
from __future__ import annotations

import time as _time

from . import _shmring
from ._shmring import (  # noqa: F401  (re-exported)
    BATCH_MAX,
    CONSUMER,
    F_MPSC,
    MAX_PRODUCERS,
    DEFAULT_SLOT_COUNT,
    DEFAULT_SLOT_SIZE,
    DEFAULT_SPIN_NS,
    EACCES,
    EAGAIN,
    EBADFMT,
    EBUSY,
    ECLOSED,
    EEXIST,
    EINTR,
    EINVAL,
    EMSGSIZE,
    ENOENT,
    ENOMEM,
    EPEERDEAD,
    ESYS,
    ETIMEDOUT,
    LIB_VERSION,
    MAX_MSG_LIMIT,
    MAX_NAME,
    MAX_SLOT_COUNT,
    MAX_SLOT_SIZE,
    OK,
    PRODUCER,
    RECORD_HEADER,
    Claim,
    Peek,
    Ring,
    Stats,
    create,
    open,
    strerror,
    unlink,
)

__version__ = LIB_VERSION

__all__ = [
    "create", "open", "unlink", "strerror", "Ring", "Peek", "Claim",
    "Stats", "Channel", "PRODUCER", "CONSUMER",
    "Error", "InvalidArgument", "Again", "Timeout", "MessageTooLarge",
    "Closed", "PeerDead", "Exists", "NotFound", "PermissionDenied", "Busy",
    "BadFormat", "NoMemory", "OSFailure", "Interrupted",
]

_CODE_NAMES = {
    OK: "SHMRING_OK", EINVAL: "SHMRING_EINVAL", EAGAIN: "SHMRING_EAGAIN",
    ETIMEDOUT: "SHMRING_ETIMEDOUT", EMSGSIZE: "SHMRING_EMSGSIZE",
    ECLOSED: "SHMRING_ECLOSED", EPEERDEAD: "SHMRING_EPEERDEAD",
    EEXIST: "SHMRING_EEXIST", ENOENT: "SHMRING_ENOENT",
    EACCES: "SHMRING_EACCES", EBUSY: "SHMRING_EBUSY",
    EBADFMT: "SHMRING_EBADFMT", ENOMEM: "SHMRING_ENOMEM",
    ESYS: "SHMRING_ESYS", EINTR: "SHMRING_EINTR",
}


class Error(OSError):
    """A shmring call failed.

    code      the library's code, a negative int (shmring.ETIMEDOUT, ...)
    errno     the nearest POSIX errno (ETIMEDOUT, EAGAIN, ...)
    strerror  the library's message for the code
    filename  the ring's name
    detail    what the binding adds: the call, the sizes involved (or None)
    """

    code: int = 0
    detail: "str | None" = None

    @property
    def code_name(self) -> str:
        return _CODE_NAMES.get(self.code, f"code {self.code}")

    def __str__(self) -> str:
        s = f"[{self.code_name}] {self.strerror}"
        if self.filename is not None:
            s += f": {self.filename!r}"
        if self.detail:
            s += f" ({self.detail})"
        return s


class InvalidArgument(Error, ValueError):
    """SHMRING_EINVAL: a bad argument, or a call the Ring's role or state
    does not allow: a closed Ring, a Ring inherited by a forked child, a
    producer call on a consumer, a call while a peek/claim is open."""
    code = EINVAL


class Again(Error, BlockingIOError):
    """SHMRING_EAGAIN: the call would block and the timeout was 0."""
    code = EAGAIN


class Timeout(Error, TimeoutError):
    """SHMRING_ETIMEDOUT: the timeout expired."""
    code = ETIMEDOUT


class MessageTooLarge(Error):
    """SHMRING_EMSGSIZE: a message above the ring's max_msg, or a
    recv_into() buffer too small (then .needed is the size needed and the
    message stays in the ring)."""
    code = EMSGSIZE
    needed: "int | None" = None


class Closed(Error):
    """SHMRING_ECLOSED: the peer closed. A consumer sees it once the ring
    is drained: it is the end of the stream."""
    code = ECLOSED


class PeerDead(Error):
    """SHMRING_EPEERDEAD: the peer process died without closing (reported
    within 200 ms)."""
    code = EPEERDEAD


class Exists(Error, FileExistsError):
    """SHMRING_EEXIST: create(): a live ring has that name."""
    code = EEXIST


class NotFound(Error, FileNotFoundError):
    """SHMRING_ENOENT: open()/unlink(): no such ring (or one still being
    created: retry)."""
    code = ENOENT


class PermissionDenied(Error, PermissionError):
    """SHMRING_EACCES: permission denied."""
    code = EACCES


class Busy(Error):
    """SHMRING_EBUSY: that role of the ring is held by a live process (this
    one included)."""
    code = EBUSY


class BadFormat(Error):
    """SHMRING_EBADFMT: the segment is not a valid ring, or the peer
    corrupted it."""
    code = EBADFMT


class NoMemory(Error):
    """SHMRING_ENOMEM: out of memory or of shared-memory space."""
    code = ENOMEM


class OSFailure(Error):
    """SHMRING_ESYS: another operating-system failure."""
    code = ESYS


class Interrupted(Error, InterruptedError):
    """SHMRING_EINTR: never raised by this package, which runs the signal
    handlers and goes on waiting (PEP 475); here for completeness."""
    code = EINTR


_shmring._set_errors({cls.code: cls for cls in (
    Error, InvalidArgument, Again, Timeout, MessageTooLarge, Closed,
    PeerDead, Exists, NotFound, PermissionDenied, Busy, BadFormat, NoMemory,
    OSFailure, Interrupted)})


def _channel_names(name: str) -> "tuple[str, str]":
    if not isinstance(name, str):
        raise TypeError(f"Channel name must be a str, not {type(name).__name__}")
    return name + ".req", name + ".rep"


class Channel:
    """A duplex pair of rings for request/reply between two processes, in
    the strict send-then-wait style: the ring <name>.req carries requests
    from the client to the server, <name>.rep the replies.

        # server                               # client
        with shmring.Channel.create("calc") as ch:
            ch.serve(lambda req: req.upper())
                                               with shmring.Channel.open("calc", timeout=5) as ch:
                                                   ch.request(b"ping")   # b"PING"

    tx and rx are the two Rings (this side's sending and receiving ends).
    """

    __slots__ = ("tx", "rx", "name", "side")

    def __init__(self, tx: Ring, rx: Ring, name: "str | None" = None,
                 side: "str | None" = None) -> None:
        if not isinstance(tx, Ring) or not isinstance(rx, Ring):
            raise TypeError("Channel(tx, rx) takes two Rings")
        if tx.role != PRODUCER or rx.role != CONSUMER:
            raise ValueError("Channel(tx, rx): tx must be a producer Ring "
                             "and rx a consumer Ring")
        self.tx = tx
        self.rx = rx
        self.name = name
        self.side = side

    @staticmethod
    def _roles(side: str) -> "tuple[str, str]":
        if side == "server":
            return CONSUMER, PRODUCER
        if side == "client":
            return PRODUCER, CONSUMER
        raise ValueError(f"side must be 'server' or 'client', not {side!r}")

    @classmethod
    def create(cls, name: str, side: str = "server", *, slot_size: int = 0,
               slot_count: int = 0, max_msg: int = 0, perm: int = 0o600,
               flags: int = 0) -> "Channel":
        """Create both rings (usually the server does) and attach as
        `side`. Every keyword goes to both shmring.create() calls."""
        req_role, rep_role = cls._roles(side)
        req_name, rep_name = _channel_names(name)
        cfg = dict(slot_size=slot_size, slot_count=slot_count,
                   max_msg=max_msg, perm=perm, flags=flags)
        req = create(req_name, req_role, **cfg)
        try:
            rep = create(rep_name, rep_role, **cfg)
        except BaseException:
            req.close()
            raise
        return cls._from(req, rep, name, side)

    @classmethod
    def open(cls, name: str, side: str = "client", *,
             timeout: "float | None" = 0) -> "Channel":
        """Attach to both rings as `side` (usually the client), waiting up
        to `timeout` seconds (None: forever) for them to be created."""
        req_role, rep_role = cls._roles(side)
        req_name, rep_name = _channel_names(name)
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0 seconds or None")
        deadline = None if timeout is None else _time.monotonic() + timeout
        pause = 0.0005
        while True:
            try:
                req = open(req_name, req_role)
                try:
                    rep = open(rep_name, rep_role)
                except BaseException:
                    req.close()
                    raise
                return cls._from(req, rep, name, side)
            except NotFound:
                if deadline is not None and _time.monotonic() >= deadline:
                    raise
                _time.sleep(pause)
                pause = min(pause * 2, 0.02)

    @classmethod
    def _from(cls, req: Ring, rep: Ring, name: str, side: str) -> "Channel":
        if side == "server":
            return cls(rep, req, name, side)
        return cls(req, rep, name, side)

    @staticmethod
    def unlink(name: str) -> None:
        """Remove both names (NotFound only if neither exists)."""
        missing = 0
        for n in _channel_names(name):
            try:
                unlink(n)
            except NotFound:
                missing += 1
        if missing == 2:
            unlink(_channel_names(name)[0])

    @property
    def max_msg(self) -> int:
        return min(self.tx.max_msg, self.rx.max_msg)

    @property
    def closed(self) -> bool:
        return self.tx.closed and self.rx.closed

    def send(self, data, timeout: "float | None" = None) -> None:
        self.tx.send(data, timeout)

    def recv(self, timeout: "float | None" = None) -> bytes:
        return self.rx.recv(timeout)

    def request(self, data, timeout: "float | None" = None) -> bytes:
        """Send one request and wait for its reply; `timeout` bounds both.
        After a Timeout the late reply, if any, is the next one received:
        call recv() to drop it, or close the channel."""
        if timeout is None:
            self.tx.send(data)
            return self.rx.recv()
        if timeout == 0:
            self.tx.send(data, 0)
            return self.rx.recv(0)
        deadline = _time.monotonic() + timeout
        self.tx.send(data, timeout)
        return self.rx.recv(max(deadline - _time.monotonic(), 1e-9))

    def serve(self, handler, timeout: "float | None" = None) -> int:
        """Answer requests with handler(request: bytes) -> bytes-like (None
        sends an empty reply) until the client closes; return how many were
        served. `timeout` bounds each wait for a request (Timeout); PeerDead
        if the client died."""
        recv, send = self.rx.recv, self.tx.send
        n = 0
        while True:
            try:
                req = recv(timeout)
            except Closed:
                return n
            rep = handler(req)
            send(b"" if rep is None else rep)
            n += 1

    def close(self) -> None:
        """Close both rings (the client's close ends serve())."""
        try:
            self.tx.close()
        finally:
            self.rx.close()

    def __enter__(self) -> "Channel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<shmring.Channel {self.name!r} {self.side}"
                f"{' closed' if self.closed else ''}>")
