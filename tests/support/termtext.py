#!/usr/bin/env python3
"""termtext.py — checks of text meant for a terminal, for the shell tests.

  termtext.py clean FILE            valid UTF-8, no control characters
                                    other than newline (exit 1 and say
                                    where otherwise)
  termtext.py column FILE COL [SKIP] every line (after SKIP header lines)
                                    has a space at display column COL and
                                    a non-space right after it
  termtext.py widest FILE           print the widest line's display width

Display width as a terminal counts it: wide (East Asian W/F) characters
two columns, combining marks none.
"""
import sys
import unicodedata


def width(ch):
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me"):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 1


def cells(line):
    """(column, character) for each character of a line."""
    col, out = 0, []
    for ch in line:
        out.append((col, ch))
        col += width(ch)
    return out


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        print(f"{path}: invalid UTF-8 at byte {e.start}: {raw[max(0, e.start - 20):e.start + 10]!r}")
        sys.exit(1)


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    text = load(path)
    lines = text.split("\n")
    if cmd == "clean":
        for n, line in enumerate(lines, 1):
            for ch in line:
                if unicodedata.category(ch) == "Cc":
                    print(f"{path}:{n}: control character U+{ord(ch):04X} in {line!r}")
                    sys.exit(1)
        return
    if cmd == "column":
        col, skip = int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 0
        for n, line in enumerate(lines[skip:], skip + 1):
            if not line:
                continue
            at = dict(cells(line))
            if at.get(col) != " " or at.get(col + 1, " ") == " ":
                print(f"{path}:{n}: column {col} is not a cell boundary: {line!r}")
                sys.exit(1)
        return
    if cmd == "widest":
        print(max((sum(width(c) for c in line) for line in lines), default=0))
        return
    print(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main()
