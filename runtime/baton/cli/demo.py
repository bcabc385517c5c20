"""``baton demo``: run the bundled example workflows against the bundled example upstreams."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from baton.demo import DEMO_RUNS, EXAMPLES_DIR, ExampleError, run_demo

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="run the bundled example workflows against bundled example upstreams",
        description=(
            "Start a small shop's services on 127.0.0.1 and run the example workflows from "
            "examples/ against them: a call + switch, a fan-out joined into one response, and a "
            "saga that compensates when shipping fails. Prints each output and its timeline."
        ),
    )
    parser.add_argument(
        "--examples",
        type=Path,
        default=EXAMPLES_DIR,
        help="folder holding the example manifests (default: %(default)s)",
    )
    parser.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    examples: Path = args.examples
    if not examples.is_dir():
        print(f"baton demo: no examples folder at {examples} (use --examples DIR)", file=sys.stderr)
        return 2
    try:
        outcomes = asyncio.run(run_demo(out=sys.stdout, examples_dir=examples))
    except ExampleError as exc:
        print(f"baton demo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("baton demo: interrupted: the runs were cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``): nothing left to tell it, and no traceback either.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the boundary: a bug must still not show a user a traceback
        print(f"baton demo: internal error ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
    unexpected = [outcome.run.title for outcome in outcomes if not outcome.as_expected]
    if unexpected:
        print(f"\nbaton demo: {len(unexpected)} run(s) did not end as expected:", file=sys.stderr)
        for title in unexpected:
            print(f"  - {title}", file=sys.stderr)
        return 1
    print(f"\nAll {len(DEMO_RUNS)} demo runs ended as expected.")
    return 0
