"""`python -m tests.plane build|status|up`: build the plane's parts, or run the plane by hand."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.plane import _build
from tests.plane._procs import StartupError, stop_all


def _status() -> int:
    print(f"cache: {_build.cache_root()}")
    missing = 0
    for part in _build.PARTS.values():
        for binary in part.binaries:
            try:
                print(f"  {part.key:24} {binary:26} {_build.locate(part.name, binary)}")
            except _build.PartUnavailable as exc:
                missing += 1
                print(f"  {part.key:24} {binary:26} UNAVAILABLE: {exc}")
    return 1 if missing else 0


def _up(args: argparse.Namespace) -> int:
    from tests.plane.jaeger import LocalJaeger
    from tests.plane.kube import LocalKubePlane

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="baton-plane-"))
    # Ctrl-C and SIGTERM both mean "stop cleanly", even when started where SIGINT was ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    kube = jaeger = None
    ok = False
    try:
        kube = LocalKubePlane(workdir / "kube")
        plane = kube.start()
        print(
            f"kube-apiserver {plane.api_url} ready; startup seconds: "
            + ", ".join(f"{k} {v:.1f}" for k, v in plane.startup_seconds.items())
        )
        print(f"export KUBECONFIG={plane.kubeconfig}")
        if plane.kubectl_path:
            print(f"kubectl: {plane.kubectl_path}")
        if not args.no_jaeger:
            jaeger = LocalJaeger(workdir / "jaeger")
            j = jaeger.start()
            print(f"Jaeger query/UI: {j.query_url}")
            print(f"export OTEL_EXPORTER_OTLP_ENDPOINT={j.otlp_grpc_endpoint}  # OTLP/gRPC")
            print(f"# OTLP/HTTP: {j.otlp_http_endpoint}")
        print(f"logs: {workdir}  (Ctrl-C to stop)", flush=True)
        if args.for_seconds is not None:
            time.sleep(args.for_seconds)
        else:
            while True:
                dead = kube.dead() + (jaeger.dead() if jaeger else [])
                if dead:
                    print(f"component died: {'; '.join(dead)}", file=sys.stderr)
                    return 1
                time.sleep(1)
        ok = True
    except _build.PartUnavailable as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"did not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        ok = True
    finally:
        if jaeger:
            jaeger.stop()
        if kube:
            kube.stop()
        stop_all()
        if ok and not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs kept in {workdir}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.plane")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build missing parts into the cache (all parts by default)")
    b.add_argument("parts", nargs="*", metavar="PART", help=f"one of: {', '.join(_build.PARTS)}")
    sub.add_parser("status", help="show which parts are built and where")
    u = sub.add_parser("up", help="start the plane and wait until Ctrl-C")
    u.add_argument("--no-jaeger", action="store_true")
    u.add_argument("--workdir", help="directory for certs, data and logs (default: a new temp dir)")
    u.add_argument("--keep", action="store_true", help="keep the work directory on exit")
    u.add_argument("--for-seconds", type=float, help="stop after this many seconds instead of waiting")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        unknown = sorted(set(args.parts) - set(_build.PARTS))
        if unknown:
            parser.error(f"unknown part(s) {', '.join(unknown)}; known: {', '.join(_build.PARTS)}")
        return _build.build_all(args.parts or None)
    if args.cmd == "status":
        return _status()
    return _up(args)


if __name__ == "__main__":
    sys.exit(main())
