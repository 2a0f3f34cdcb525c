"""Time-ordered ids: UUID version 7 (RFC 9562).

48 bits of Unix milliseconds, then the version, a 12-bit counter and 62 random bits. Ids
made later sort after ids made earlier, so a list ordered "newest first" by its business
time can break a tie (two organisations created at one instant of the stopped demo clock)
with the id, in the order the rows were really made. Within one process the counter keeps
ids of the same millisecond in order too; the wall clock is read here only for this order,
never as business time.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, counter) of the last id made in this process


def uuid7() -> uuid.UUID:
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, counter = _last
        if millis <= last_millis:  # the same millisecond, or the wall clock stepped back
            millis, counter = last_millis, counter + 1
            if counter > 0xFFF:  # 4,096 ids in one millisecond: borrow the next one
                millis, counter = millis + 1, 0
        else:
            counter = 0
        _last = (millis, counter)
    random_bits = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | random_bits
    return uuid.UUID(int=value)
