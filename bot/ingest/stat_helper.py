"""Look up files for `bot.ingest.folders` in a second process: run as a script, not imported.

A re-scan of a very big folder is one `stat` per file and little else; on two cores, a second
process halves that wait. This one starts in a few milliseconds because it imports nothing but
the standard library (it runs with `python -I -S`).

    python -I -S stat_helper.py FOLDER  < NUL-separated names  > int64 triples

For each name (bytes, relative to FOLDER) it writes st_mode, st_mtime_ns (clamped to 64 bits)
and st_size as native 64-bit integers; mode 0 means the file could not be looked up.
"""

import os
import sys
from array import array

_NS_MIN, _NS_MAX = -(2**63), 2**63 - 1


def main() -> int:
    fd = os.open(sys.argv[1], os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    out = array("q")
    for name in sys.stdin.buffer.read().split(b"\0"):
        try:
            info = os.stat(name, dir_fd=fd)  # follows symlinks, as the scan does
        except OSError:
            out.extend((0, 0, 0))
            continue
        out.extend((info.st_mode, min(max(info.st_mtime_ns, _NS_MIN), _NS_MAX), info.st_size))
    os.close(fd)
    sys.stdout.buffer.write(out.tobytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
