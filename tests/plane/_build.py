"""Build the test plane's binaries from package registries into a per-version cache.

Why build at all: these machines have no container engine, so kind cannot run; the suite starts a
real control plane from binaries instead, as controller-runtime's envtest does. Every part comes
from the Go module proxy, compiled in a throwaway wrapper module generated inside the cache (the
repository never holds a binary or third-party source). A part that cannot be built leaves a
``build-failed.txt`` beside where its binaries would be, which the fixtures turn into a skip reason.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PARTS", "Part", "PartUnavailable", "build_all", "cache_root", "locate"]

# Pinned versions. Kubernetes and etcd: the newest patch releases of the lines we support
# (k8s >= 1.34, etcd 3.6); Jaeger v1.76.0 is the module tag of the Jaeger v2.13.0 binary.
KUBERNETES_VERSION = "v1.37.2"
ETCD_VERSION = "v3.6.16"
JAEGER_MODULE_VERSION = "v1.76.0"
JAEGER_VERSION = "v2.13.0"
HELM_VERSION = "v4.3.1"

FAILED_FILE = "build-failed.txt"
DONE_FILE = "build-info.json"


@dataclasses.dataclass(frozen=True)
class Part:
    name: str
    version: str
    binaries: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"

    def dir(self) -> Path:
        return cache_root() / self.key

    def bin(self, binary: str) -> Path:
        return self.dir() / "bin" / binary


KUBERNETES = Part("kubernetes", KUBERNETES_VERSION, ("kube-apiserver", "kube-controller-manager", "kubectl"))
ETCD = Part("etcd", ETCD_VERSION, ("etcd",))
JAEGER = Part("jaeger", JAEGER_VERSION, ("jaeger",))
HELM = Part("helm", HELM_VERSION, ("helm",))
PARTS: dict[str, Part] = {p.name: p for p in (KUBERNETES, ETCD, JAEGER, HELM)}


def cache_root() -> Path:
    explicit = os.environ.get("BATON_PLANE_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "baton-plane"


class PartUnavailable(Exception):
    """A part of the plane could not be had; the message says which and why."""


def locate(part_name: str, binary: str) -> Path:
    """Return the path of a built binary, or raise PartUnavailable with the reason."""
    part = PARTS[part_name]
    path = part.bin(binary)
    if (part.dir() / DONE_FILE).is_file() and path.is_file():
        return path
    failed = part.dir() / FAILED_FILE
    if failed.is_file():
        reason = failed.read_text(encoding="utf-8").strip().splitlines()
        head = reason[0] if reason else "unknown failure"
        raise PartUnavailable(f"{part.key}: build failed: {head} (details: {failed})")
    raise PartUnavailable(f"{part.key}: {binary} is not built; run scripts/build-plane")


# -- building ---------------------------------------------------------------------------------------


def _log(msg: str) -> None:
    print(f"[build-plane] {msg}", flush=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log(f"waiting for another build holding {path}")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CGO_ENABLED"] = "0"
    env["GOFLAGS"] = "-mod=mod -buildvcs=false"
    # A dependency's `toolchain` line must not make go try to download another toolchain.
    env["GOTOOLCHAIN"] = "local"
    env.setdefault("GOPROXY", "https://proxy.golang.org")
    return env


def _run(cmd: list[str], *, cwd: Path, log: Path) -> str:
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.run(
            cmd, cwd=cwd, env=_go_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        fh.write(proc.stdout)
    if proc.returncode != 0:
        lines = proc.stdout.strip().splitlines() or ["(no output)"]
        tail = "\n".join(lines[-15:])
        # The first line is what a skipped test shows, so it carries the last error line too.
        raise PartUnavailable(f"`{' '.join(cmd[:3])} ...` exited {proc.returncode}: {lines[-1]}\n{tail}")
    return proc.stdout


def _go_version() -> tuple[int, int]:
    go = shutil.which("go")
    if go is None:
        raise PartUnavailable("no Go toolchain on PATH (install Go >= 1.26 to build the plane)")
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False).stdout
    m = re.match(r"go(\d+)\.(\d+)", out.strip())
    if not m:
        raise PartUnavailable(f"cannot read the Go version from {out.strip()!r}")
    return int(m.group(1)), int(m.group(2))


def _served_gomod(module: str, version: str, work: Path, log: Path) -> tuple[str, dict[str, str]]:
    """Download a module's go.mod through the proxy; return its text and module info."""
    out = _run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=work, log=log)
    info = json.loads(out)
    # Seed the wrapper's go.sum with upstream's: the module's own sums are authenticated by the
    # checksum database, and the proxy's checksum-database mirror does not answer for every
    # dependency (e.g. some OpenTelemetry collector modules Jaeger needs).
    upstream_sum = Path(info["Dir"]) / "go.sum"
    if upstream_sum.is_file():
        shutil.copyfile(upstream_sum, work / "go.sum")
    return Path(info["GoMod"]).read_text(encoding="utf-8"), info


def _directives(gomod: str) -> tuple[str, list[str]]:
    go_line = re.search(r"^go\s+(\S+)", gomod, re.M)
    godebug = re.findall(r"^godebug\s+.+$", gomod, re.M)
    return (go_line.group(1) if go_line else "1.26"), godebug


def _module_replaces(gomod: str) -> list[tuple[str, str]]:
    """Replace directives of a served go.mod whose target is another module (not a local path)."""
    lines: list[str] = []
    for block in re.findall(r"^replace\s*\((.*?)^\)", gomod, re.M | re.S):
        lines.extend(block.splitlines())
    lines.extend(m for m in re.findall(r"^replace\s+([^(\n].*)$", gomod, re.M))
    out: list[tuple[str, str]] = []
    for line in lines:
        line = line.split("//")[0].strip()
        if "=>" not in line:
            continue
        left, right = (s.strip() for s in line.split("=>"))
        out.append((left, right))
    return out


def _write_wrapper(
    work: Path, *, name: str, go: str, godebug: list[str], require: str, replaces: list[str]
) -> None:
    text = [f"module baton.local/plane/{name}", "", f"go {go}", ""]
    text += godebug
    text += ["", f"require {require}", ""]
    if replaces:
        text += ["replace (", *(f"\t{r}" for r in replaces), ")", ""]
    (work / "go.mod").write_text("\n".join(text), encoding="utf-8")


def _date(info: dict[str, str]) -> str:
    raw = Path(info["Info"]).read_text(encoding="utf-8")
    stamp = json.loads(raw).get("Time", "")
    return stamp or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _build_kubernetes(part: Part, work: Path, bindir: Path, log: Path) -> None:
    gomod, info = _served_gomod("k8s.io/kubernetes", part.version, work, log)
    go, godebug = _directives(gomod)
    # k8s.io/kubernetes replaces every staging module with ./staging/...; outside its repository
    # those resolve to the published staging modules, tagged v0.<minor>.<patch>.
    staging_version = "v0" + part.version[2:]
    replaces = []
    for left, right in _module_replaces(gomod):
        if right.startswith("./staging/"):
            replaces.append(f"{left} => {left} {staging_version}")
        elif not right.startswith((".", "/")):
            replaces.append(f"{left} => {right}")
    _write_wrapper(
        work,
        name="kubernetes",
        go=go,
        godebug=godebug,
        require=f"k8s.io/kubernetes {part.version}",
        replaces=replaces,
    )
    major, minor = part.version[1:].split(".")[:2]
    date = _date(info)
    flags = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={part.version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=archive",
            f"-X {pkg}.buildDate={date}",
        ]
    # One invocation for all three commands, so the shared packages are compiled once.
    _run(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            " ".join(["-s", "-w", *flags]),
            "-o",
            str(bindir) + "/",
            "k8s.io/kubernetes/cmd/kube-apiserver",
            "k8s.io/kubernetes/cmd/kube-controller-manager",
            "k8s.io/kubernetes/cmd/kubectl",
        ],
        cwd=work,
        log=log,
    )


def _build_etcd(part: Part, work: Path, bindir: Path, log: Path) -> None:
    module = "go.etcd.io/etcd/server/v3"
    gomod, _ = _served_gomod(module, part.version, work, log)
    go, godebug = _directives(gomod)
    _write_wrapper(work, name="etcd", go=go, godebug=godebug, require=f"{module} {part.version}", replaces=[])
    _run(
        ["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(bindir / "etcd"), module],
        cwd=work,
        log=log,
    )


def _build_jaeger(part: Part, work: Path, bindir: Path, log: Path) -> None:
    module = "github.com/jaegertracing/jaeger"
    gomod, info = _served_gomod(module, JAEGER_MODULE_VERSION, work, log)
    go, godebug = _directives(gomod)
    replaces = [
        f"{left} => {right}" for left, right in _module_replaces(gomod) if not right.startswith((".", "/"))
    ]
    _write_wrapper(
        work,
        name="jaeger",
        go=go,
        godebug=godebug,
        require=f"{module} {JAEGER_MODULE_VERSION}",
        replaces=replaces,
    )
    date = _date(info)
    v = f"{module}/internal/version"
    ldflags = f"-s -w -X {v}.latestVersion={part.version} -X {v}.date={date}"
    _run(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            ldflags,
            "-o",
            str(bindir / "jaeger"),
            f"{module}/cmd/jaeger",
        ],
        cwd=work,
        log=log,
    )


def _build_helm(part: Part, work: Path, bindir: Path, log: Path) -> None:
    module = "helm.sh/helm/v4"
    gomod, _ = _served_gomod(module, part.version, work, log)
    go, godebug = _directives(gomod)
    replaces = [
        f"{left} => {right}" for left, right in _module_replaces(gomod) if not right.startswith((".", "/"))
    ]
    _write_wrapper(
        work, name="helm", go=go, godebug=godebug, require=f"{module} {part.version}", replaces=replaces
    )
    v = f"{module}/internal/version"
    ldflags = f"-s -w -X {v}.version={part.version} -X {v}.metadata= -X {v}.gitTreeState=clean"
    _run(
        ["go", "build", "-trimpath", "-ldflags", ldflags, "-o", str(bindir / "helm"), f"{module}/cmd/helm"],
        cwd=work,
        log=log,
    )


_BUILDERS = {
    "kubernetes": _build_kubernetes,
    "etcd": _build_etcd,
    "jaeger": _build_jaeger,
    "helm": _build_helm,
}


def _peak_rss_children_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def build_part(part: Part, *, min_go: tuple[int, int] = (1, 26)) -> bool:
    """Build one part unless cached. Return True when its binaries are there afterwards."""
    pdir = part.dir()
    with _locked(cache_root() / f".{part.key}.lock"):
        if (pdir / DONE_FILE).is_file() and all(part.bin(b).is_file() for b in part.binaries):
            _log(f"{part.key}: cached in {pdir}")
            return True
        pdir.mkdir(parents=True, exist_ok=True)
        (pdir / FAILED_FILE).unlink(missing_ok=True)
        log = pdir / "build.log"
        log.write_text("", encoding="utf-8")
        started = time.monotonic()
        _log(f"{part.key}: building {', '.join(part.binaries)} (log: {log})")
        try:
            go = _go_version()
            if go < min_go:
                raise PartUnavailable(
                    f"Go {go[0]}.{go[1]} is too old; {part.key} needs Go >= {min_go[0]}.{min_go[1]}"
                )
            work = pdir / "src"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            for stale in pdir.glob("bin.*"):  # left by an interrupted build
                shutil.rmtree(stale, ignore_errors=True)
            bindir = Path(tempfile.mkdtemp(prefix="bin.", dir=pdir))
            _BUILDERS[part.name](part, work, bindir, log)
            missing = [b for b in part.binaries if not (bindir / b).is_file()]
            if missing:
                raise PartUnavailable(f"the build produced no {', '.join(missing)}")
            final = pdir / "bin"
            shutil.rmtree(final, ignore_errors=True)
            bindir.rename(final)
        except PartUnavailable as exc:
            (pdir / FAILED_FILE).write_text(f"{exc}\n", encoding="utf-8")
            _log(f"{part.key}: FAILED after {time.monotonic() - started:.0f}s: {exc}")
            return False
        elapsed = time.monotonic() - started
        record = {
            "part": part.name,
            "version": part.version,
            "binaries": list(part.binaries),
            "seconds": round(elapsed, 1),
            "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        (pdir / DONE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        _log(f"{part.key}: built in {elapsed:.0f}s")
        return True


def build_all(names: list[str] | None = None) -> int:
    """Build the named parts (default: all). Exit status 0 even on failure unless strict is asked."""
    started = time.monotonic()
    chosen = [PARTS[n] for n in (names or list(PARTS))]
    _log(f"cache: {cache_root()}")
    results = {p.key: build_part(p) for p in chosen}
    failed = [k for k, ok in results.items() if not ok]
    _log(
        f"done in {time.monotonic() - started:.0f}s; peak child RSS {_peak_rss_children_mib():.0f} MiB; "
        + (f"UNAVAILABLE: {', '.join(failed)} (their tests will skip)" if failed else "all parts ready")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(build_all(sys.argv[1:] or None))
