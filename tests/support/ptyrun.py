#!/usr/bin/env python3
"""ptyrun.py — run a command on a pseudo-terminal of a given size, as a
person at a terminal would, and check what it drew.

  ptyrun.py COLS ROWS [--resize-after S NEWCOLS] OUT -- COMMAND...

Writes everything the command wrote to the terminal into OUT and exits with
the command's status. With --resize-after, the terminal is resized to
NEWCOLS columns S seconds after the command's first output (the command
gets SIGWINCH).

  ptyrun.py --check COLS OUT [--final-cols N]

Replays OUT on a small model of a terminal COLS wide (cursor moves, erase,
autowrap) and fails when any written line reached the last column (so it
wrapped, or would have) or when the cursor was moved up past the top of
what was drawn. With --final-cols, the last drawing (after the last cursor
movement up) must also fit N - 1 columns.
"""
import os
import pty
import re
import select
import struct
import sys
import termios
import fcntl
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from termtext import width  # noqa: E402  (display width as a terminal counts it)

CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


def set_size(fd, cols, rows):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def run(argv):
    cols, rows = int(argv[0]), int(argv[1])
    rest = argv[2:]
    resize_at, new_cols = None, None
    if rest[0] == "--resize-after":
        resize_at, new_cols = float(rest[1]), int(rest[2])
        rest = rest[3:]
    out_path = rest[0]
    cmd = rest[rest.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    set_size(fd, cols, rows)
    start = None
    data = bytearray()
    while True:
        if resize_at is not None and start is not None and time.monotonic() - start >= resize_at:
            set_size(fd, new_cols, rows)
            resize_at = None
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        if start is None:
            start = time.monotonic()
        data += chunk
    _, status = os.waitpid(pid, 0)
    with open(out_path, "wb") as f:
        f.write(data)
    return os.waitstatus_to_exitcode(status)


def check(argv):
    cols, path = int(argv[0]), argv[1]
    final_cols = int(argv[argv.index("--final-cols") + 1]) if "--final-cols" in argv else None
    text = open(path, "rb").read().decode("utf-8")
    text = text.replace("\r\n", "\n")
    row, col, top, problems = 0, 0, 0, []
    last_up = 0
    pos = 0
    while pos < len(text):
        m = CSI.match(text, pos)
        if m:
            arg, op = m.group(1), m.group(2)
            if op == "A":
                row -= int(arg or "1")
                last_up = m.end()
                if row < top:
                    problems.append(f"cursor moved up past the drawing at byte {pos}")
                    row = top
            pos = m.end()
            continue
        ch = text[pos]
        pos += 1
        if ch == "\n":
            row += 1
            col = 0
        elif ch == "\r":
            col = 0
        else:
            col += width(ch)
            if col >= cols:
                problems.append(f"a line reached column {cols} at byte {pos}: "
                                f"{text[max(0, pos - 60):pos]!r}")
                row += 1
                col = 0
    if final_cols is not None:
        final = CSI.sub("", text[last_up:]).split("\n")
        for line in final:
            w = sum(width(c) for c in line.replace("\r", ""))
            if w > final_cols - 1:
                problems.append(f"the last drawing has a line of {w} columns: {line!r}")
    for p in problems[:5]:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2:]))
    sys.exit(run(sys.argv[1:]))
