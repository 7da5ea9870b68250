"""Python's cyclic garbage collector held back while a round builds its many objects.

CPython starts a collection each time 700 more container objects exist than it last counted,
and every tenth of the older generation's runs is a full collection that walks every object the
process holds. Computing a round of 10,000 people creates hundreds of thousands of long-lived
tuples, dictionaries and rows (the review's totals, 10,000 lines, 50,000 ledger legs): measured
on a round of 10,000 people / 200,000 contributions, eight full collections took 0.67 s of a
3.0 s allocate + finalize, and found next to nothing to free (the peak memory was 164 MB with
the collector and 164 MB without). Mercurial pauses the collector the same way around building
its large indexes (``util.nogc``).

Reference counting still frees every object that is not part of a cycle; the cycles made
meanwhile wait for the first collection after the block. The switch is the process's, not the
thread's: while a round is computed in one thread, the others run without the cyclic collector
too (for a few seconds, and they lose no memory for good).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Run the block without cyclic collections; as it was before afterwards, error or not.

    Usable as a decorator. Nested blocks leave it off until the outermost one ends; a collector
    that was off before stays off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
