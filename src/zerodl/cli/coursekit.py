"""``zerodl course-kit DIR [--book] [--force]``: the command line of ``zerodl.coursekit``."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..tools.coursekit import BOOK_CHAPTERS, write_course_kit


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``zerodl course-kit``."""
    p = subparsers.add_parser(
        "course-kit", help="write the course's (or with --book the book's) helper modules, "
                           "backed by zerodl, into a folder",
        description="Write a small package into DIR so that notebooks saying "
                    "'from common import functions' and 'from data.mnist import load_mnist' "
                    "run on zerodl after sys.path.append(DIR). With --book, write the layout "
                    "of the book ゼロから作るDeep Learning (dataset/mnist.py, common/*.py) so "
                    "that its chapter scripts run unchanged from DIR/ch03 ... DIR/ch08.")
    p.add_argument("dir", metavar="DIR", help="folder to write into (created if missing)")
    p.add_argument("--book", action="store_true",
                   help="the book's layout (loss(y, t) argument order) instead of the course's")
    p.add_argument("--force", action="store_true",
                   help="replace files that the kit did not write")
    return p


def run(args) -> int:
    """Run ``zerodl course-kit`` with parsed ``args``."""
    for path in write_course_kit(args.dir, force=args.force, book=args.book):
        print(f"wrote {path}")
    where = Path(args.dir).resolve()
    if args.book:
        print(f"Copy the book's chapter scripts into {where / BOOK_CHAPTERS[0]} ... "
              f"{where / BOOK_CHAPTERS[-1]} and run them from there.")
    else:
        print(f"In a notebook: import sys; sys.path.append({str(where)!r})")
    return 0
