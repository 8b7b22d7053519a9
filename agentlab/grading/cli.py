"""The grading commands (the lead wires them into `agentlab grade` and `agentlab student`).

    python -m agentlab.grading grade [NOTEBOOK|FOLDER ...] [--instructor] [--csv OUT] [--source DIR]
                                   [--timeout S] [--jobs N]
    python -m agentlab.grading student [--check] [--source DIR] [--out DIR]

`grade` with no notebooks grades the student notebooks in labs/exercises/ and labs/ (your working copies). How a
notebook is graded, and what keeps it honest: `agentlab.grading.grade`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from agentlab.grading.exercises import FOLDERS, labs_dir
from agentlab.grading.grade import GradingError, grade_paths
from agentlab.grading.markers import MarkerError
from agentlab.grading.report import write_csv
from agentlab.grading.student import generate, problems

__all__ = ["grade_main", "main", "student_main"]


def _grade_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks or folders (default: labs/exercises and labs)"
    )
    parser.add_argument("--instructor", action="store_true", help="also run the hidden checks (from --source)")
    parser.add_argument("--csv", type=Path, help="write one row per notebook and part to this CSV file")
    parser.add_argument("--source", type=Path, help="the instructor notebooks (default: each one's source/)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per answer cell and per check")
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="checking processes at once (each grades a batch of notebooks, each notebook in its own sandbox)",
    )
    return parser


def _student_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--check", action="store_true", help="only check that the committed ones are up to date")
    parser.add_argument(
        "--source", type=Path, help="the instructor notebooks (default: labs/exercises/source and labs/source)"
    )
    parser.add_argument("--out", type=Path, help="where the student notebooks go (default: labs/exercises and labs)")
    return parser


def _grade(args: argparse.Namespace) -> int:
    notebooks = args.notebooks or [p for folder in FOLDERS for p in sorted((labs_dir() / folder).glob("*.ipynb"))]
    if not notebooks:
        print(f"agentlab grade: no notebooks in {labs_dir()}; name them, or set AGENTLAB_LABS", file=sys.stderr)
        return 2
    try:
        grades = grade_paths(
            notebooks, instructor=args.instructor, sources=args.source, limit=args.timeout, jobs=args.jobs
        )
    except GradingError as exc:
        print(f"agentlab grade: {exc}", file=sys.stderr)
        return 2
    for grade in grades:
        print(f"{grade.notebook}\n{grade.text()}\n")
    print(f"total: {sum(g.points for g in grades):g}/{sum(g.max_points for g in grades):g} points")
    if args.csv:
        write_csv(grades, args.csv)
        print(f"wrote {args.csv}")
    return 0


def _student(args: argparse.Namespace) -> int:
    try:
        if args.check:
            found = problems(args.source, args.out)
            print("\n".join(found) or "student notebooks are up to date")
            return 1 if found else 0
        for path in generate(args.source, args.out):
            print(f"wrote {path}")
    except MarkerError as exc:
        print(f"agentlab student: {exc}", file=sys.stderr)
        return 2
    return 0


def grade_main(argv: list[str] | None = None) -> int:
    """`agentlab grade`: print a score per part (exit 2 when nothing could be graded)."""
    return _grade(_grade_parser(argparse.ArgumentParser(prog="agentlab grade")).parse_args(argv))


def student_main(argv: list[str] | None = None) -> int:
    """`agentlab student`: regenerate the student notebooks; with --check, exit 1 if any is stale or leaks."""
    return _student(_student_parser(argparse.ArgumentParser(prog="agentlab student")).parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    """`python -m agentlab.grading grade|student ...`."""
    parser = argparse.ArgumentParser(prog="python -m agentlab.grading", description="Grade the §40.6 exercises.")
    sub = parser.add_subparsers(dest="command", required=True)
    _grade_parser(sub.add_parser("grade", help="grade notebooks and print a score per part"))
    _student_parser(sub.add_parser("student", help="generate the student notebooks from the instructor ones"))
    args = parser.parse_args(argv)
    return _grade(args) if args.command == "grade" else _student(args)
