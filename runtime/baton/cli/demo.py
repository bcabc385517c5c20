"""``baton demo``: serve the bundled example workflows with Baton's runtime server and call them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from baton.demo import DEMO_RUNS, EXAMPLES_DIR, ExampleError, Serving, run_demo
from baton.demo.render import render_invitation
from baton.server.lifecycle import stop_on_signals

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="serve the bundled example workflows against bundled example upstreams, and call them",
        description=(
            "Start a small shop's services on 127.0.0.1, serve the example workflows of examples/ "
            "with Baton's runtime server (what `baton serve` runs), and send them example requests "
            "over HTTP: a call + switch, a fan-out joined into one response, and a saga that "
            "compensates when shipping fails. Prints each request, answer and run timeline, then "
            "keeps serving until Ctrl-C (or exits, with --once)."
        ),
    )
    parser.add_argument(
        "--examples",
        type=Path,
        default=EXAMPLES_DIR,
        help="folder holding the example manifests (default: %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8080,
        help="port to serve on, on 127.0.0.1; a free one if it is taken; 0 for any (default: 8080)",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="exit after the example requests (exit 0 when every run ended as expected)",
    )
    parser.set_defaults(func=_demo)


async def _until_interrupted(serving: Serving) -> None:
    print(render_invitation(serving), end="", flush=True)
    stop = asyncio.Event()
    stop_on_signals(stop)
    await stop.wait()
    print("\nStopping: letting runs in flight finish.", flush=True)


def _demo(args: argparse.Namespace) -> int:
    examples: Path = args.examples
    if not examples.is_dir():
        print(f"baton demo: no examples folder at {examples} (use --examples DIR)", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"baton demo: --port must be 0-65535, got {args.port}", file=sys.stderr)
        return 2
    try:
        outcomes = asyncio.run(
            run_demo(
                out=sys.stdout,
                examples_dir=examples,
                port=args.port,
                keep_serving=None if args.once else _until_interrupted,
            )
        )
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
