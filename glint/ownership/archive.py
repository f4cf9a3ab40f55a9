"""A ZIP written as a stream: zipfile writes into a small non-seekable sink that is drained
after each piece, so the archive leaves in chunks and is never whole in memory.

Without seeking, zipfile puts each entry's sizes and CRC in a data descriptor after its bytes
(and in the central directory at the end), which every unzip reads. Photos are stored as they
are (already compressed, and byte-identical to the originals); text is deflated.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from typing import IO

COPY_CHUNK_BYTES = 256 * 1024


class _Sink:
    """Collects what zipfile writes until drained; tells its offset, cannot seek (so zipfile
    writes data descriptors), and is never closed (a dropped archive writes into nothing)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._offset = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        return None

    def drain(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


class ZipStream:
    """Entries go in one after the other; `drain()` hands over the bytes written so far."""

    def __init__(self) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, mode="w", allowZip64=True)  # type: ignore[call-overload]

    def _info(self, name: str, *, compress: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def add(self, name: str, data: bytes, *, compress: bool) -> bytes:
        """One whole entry (a photo, a small JSON file); the bytes ready to send."""
        self._zip.writestr(self._info(name, compress=compress), data)
        return self._sink.drain()

    def add_file(self, name: str, source: IO[bytes], *, compress: bool = True) -> Iterator[bytes]:
        """An entry copied from a (temporary) file piece by piece; the bytes of each piece."""
        source.seek(0)
        with self._zip.open(self._info(name, compress=compress), mode="w", force_zip64=True) as out:
            while piece := source.read(COPY_CHUNK_BYTES):
                out.write(piece)
                yield self._sink.drain()
        yield self._sink.drain()

    def drain(self) -> bytes:
        """The bytes written since the last drain."""
        return self._sink.drain()

    def abandon(self) -> None:
        """Drop a half-written archive: nothing more is written, not even its end."""
        self._zip.fp = None

    def close(self) -> bytes:
        """Write the central directory; the last bytes of the archive."""
        self._zip.close()
        return self._sink.drain()
