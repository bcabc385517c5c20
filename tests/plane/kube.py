"""A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager.

Started from the binaries `scripts/build-plane` puts in the cache, on free loopback ports, with a
PKI generated per plane, the way controller-runtime's envtest does it. There is no kubelet: pods
are stored but never run. Alternatively, `KubePlane.existing()` wraps a cluster someone already has
(e.g. kind), so the same tests run there.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.plane import _build
from tests.plane._certs import make_pki
from tests.plane._procs import ManagedProcess, StartupError, free_port, wait_until

__all__ = ["KubePlane", "LocalKubePlane", "StartupError"]

SERVICE_CIDR = "10.0.0.0/24"
# Controllers that make deletion real without a kubelet or scheduler: namespace finalization,
# ownerReference cascading, and each namespace's `default` ServiceAccount.
CONTROLLERS = "namespace-controller,garbage-collector-controller,serviceaccount-controller"


def _kubeconfig(
    server: str, *, ca: Path | None, user: dict[str, str], name: str = "baton-plane"
) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": server}
    if ca is not None:
        cluster["certificate-authority"] = str(ca)
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }


@dataclass
class KubePlane:
    """Handle to a cluster the tests may use: a local plane or an existing (kind) cluster."""

    kubeconfig: Path
    api_url: str
    ca_cert: Path | None
    kubectl_path: Path | None
    local: bool
    workdir: Path
    startup_seconds: dict[str, float] = field(default_factory=dict)

    # -- clients ---------------------------------------------------------------------------------
    def api_client(self) -> Any:
        """A new admin `kubernetes.client.ApiClient` (close it, or use it as a context manager)."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]

    def env(self) -> dict[str, str]:
        """Environment for a child process (operator, kubectl, helm) that should use this cluster."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, kubeconfig: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        if self.kubectl_path is None:
            raise _build.PartUnavailable("no kubectl: run scripts/build-plane (or put kubectl on PATH)")
        env = {**self.env(), "KUBECONFIG": str(kubeconfig or self.kubeconfig)}
        proc = subprocess.run(
            [str(self.kubectl_path), *args], input=input, capture_output=True, text=True, env=env, timeout=60
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc

    # -- service accounts ------------------------------------------------------------------------
    def service_account_token(
        self, namespace: str, name: str, *, audiences: Sequence[str] | None = None, seconds: int = 3600
    ) -> str:
        """Mint a bound token for an existing ServiceAccount through the TokenRequest API."""
        from kubernetes import client

        spec = client.V1TokenRequestSpec(audiences=list(audiences or []), expiration_seconds=seconds)
        with self.api_client() as api:
            resp = client.CoreV1Api(api).create_namespaced_service_account_token(
                name, namespace, client.AuthenticationV1TokenRequest(spec=spec)
            )
        if resp.status is None or not resp.status.token:
            raise RuntimeError(f"TokenRequest for {namespace}/{name} returned no token")
        return str(resp.status.token)

    def kubeconfig_for_token(self, token: str, path: Path) -> Path:
        """Write a kubeconfig that authenticates with `token` (e.g. a ServiceAccount's)."""
        path.write_text(yaml.safe_dump(_kubeconfig(self.api_url, ca=self.ca_cert, user={"token": token})))
        path.chmod(0o600)
        return path

    def client_for_token(self, token: str) -> Any:
        """A `kubernetes.client.ApiClient` authenticating with a bearer token, not as admin."""
        from kubernetes import client

        cfg = client.Configuration()
        cfg.host = self.api_url
        cfg.api_key = {"authorization": token}
        cfg.api_key_prefix = {"authorization": "Bearer"}
        if self.ca_cert is not None:
            cfg.ssl_ca_cert = str(self.ca_cert)
        else:
            with self.api_client() as admin:
                cfg.ssl_ca_cert = admin.configuration.ssl_ca_cert
                cfg.verify_ssl = admin.configuration.verify_ssl
        return client.ApiClient(cfg)

    # -- an existing cluster ---------------------------------------------------------------------
    @classmethod
    def existing(cls, kubeconfig: Path, workdir: Path) -> KubePlane:
        """Wrap a cluster the user already runs. Only loopback servers, unless explicitly allowed,
        so a KUBECONFIG left pointing at a shared cluster is never written to by the test suite."""
        from kubernetes import config

        api = config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
        try:
            host = api.configuration.host
        finally:
            api.close()
        hostname = urlsplit(host).hostname or ""
        if not _is_loopback(hostname) and os.environ.get("BATON_ALLOW_REMOTE_CLUSTER") != "1":
            raise StartupError(
                f"KUBECONFIG={kubeconfig} points at {host}, which is not on loopback; the tests create and "
                "delete cluster-wide objects, so set BATON_ALLOW_REMOTE_CLUSTER=1 if that is intended"
            )
        kubectl = _optional_binary("kubernetes", "kubectl") or _which("kubectl")
        return cls(
            kubeconfig=kubeconfig,
            api_url=host,
            ca_cert=None,
            kubectl_path=kubectl,
            local=False,
            workdir=workdir,
        )


def _port_race(exc: StartupError) -> bool:
    return "address already in use" in str(exc).lower()


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _which(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


def _optional_binary(part: str, binary: str) -> Path | None:
    try:
        return _build.locate(part, binary)
    except _build.PartUnavailable:
        return None


def _https_get(url: str, ctx: ssl.SSLContext) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=5) as resp:
            return int(resp.status), resp.read().decode()
    except urllib.error.HTTPError as exc:
        # Not ready yet (e.g. /readyz 500): close the response so no socket is left to the GC.
        with exc:
            return exc.code, exc.read().decode(errors="replace")


class LocalKubePlane:
    """Starts and stops etcd + kube-apiserver + kube-controller-manager under `workdir`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.log_dir = workdir / "logs"
        self.procs: list[ManagedProcess] = []
        # Resolving binaries first turns a missing part into a clear PartUnavailable (a skip).
        self.etcd = _build.locate("etcd", "etcd")
        self.apiserver = _build.locate("kubernetes", "kube-apiserver")
        self.controller_manager = _build.locate("kubernetes", "kube-controller-manager")
        self.kubectl = _optional_binary("kubernetes", "kubectl")

    def start(self, *, timeout: float = 90.0) -> KubePlane:
        try:
            return self._start_once(timeout)
        except StartupError as exc:
            if not _port_race(exc):
                raise
        # Another process took a port between free_port() and the bind: once more, fresh ports.
        for stale in ("etcd", "apiserver", "controller-manager"):
            shutil.rmtree(self.workdir / stale, ignore_errors=True)
        return self._start_once(timeout)

    def _start_once(self, timeout: float) -> KubePlane:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        timings: dict[str, float] = {}
        started = time.monotonic()
        try:
            pki = make_pki(self.workdir / "pki")
            timings["certificates"] = time.monotonic() - started

            etcd_port, peer_port = free_port(), free_port()
            etcd_url = f"http://127.0.0.1:{etcd_port}"
            etcd = self._spawn(
                "etcd",
                [
                    str(self.etcd),
                    "--name=plane",
                    f"--data-dir={self.workdir / 'etcd'}",
                    f"--listen-client-urls={etcd_url}",
                    f"--advertise-client-urls={etcd_url}",
                    f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                    f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                    f"--initial-cluster=plane=http://127.0.0.1:{peer_port}",
                    "--unsafe-no-fsync=true",
                    "--log-level=warn",
                ],
            )
            timings["etcd"] = wait_until(
                "healthy /health",
                lambda: '"true"' in _http_get(f"{etcd_url}/health"),
                proc=etcd,
                timeout=timeout,
            )

            port = free_port()
            api_url = f"https://127.0.0.1:{port}"
            apiserver = self._spawn(
                "kube-apiserver",
                [
                    str(self.apiserver),
                    f"--etcd-servers={etcd_url}",
                    f"--cert-dir={self.workdir / 'apiserver'}",
                    f"--tls-cert-file={pki.serving_cert}",
                    f"--tls-private-key-file={pki.serving_key}",
                    f"--client-ca-file={pki.ca_cert}",
                    "--bind-address=127.0.0.1",
                    "--advertise-address=127.0.0.1",
                    # 1.37 refuses a loopback advertise address for the `kubernetes` Service endpoints;
                    # nothing in-cluster runs here to use them.
                    "--endpoint-reconciler-type=none",
                    f"--secure-port={port}",
                    f"--service-cluster-ip-range={SERVICE_CIDR}",
                    "--authorization-mode=RBAC",
                    "--allow-privileged=true",
                    # As envtest: with no kubelet, pods need not wait for their ServiceAccount.
                    "--disable-admission-plugins=ServiceAccount",
                    f"--service-account-issuer={api_url}",
                    f"--service-account-key-file={pki.sa_public_key}",
                    f"--service-account-signing-key-file={pki.sa_private_key}",
                    "--profiling=false",
                ],
            )
            admin_ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
            admin_ctx.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
            timings["kube-apiserver"] = wait_until(
                "ready /readyz",
                lambda: _https_get(f"{api_url}/readyz", admin_ctx)[0] == 200,
                proc=apiserver,
                timeout=timeout,
            )

            kubeconfig = self.workdir / "kubeconfig"
            kubeconfig.write_text(
                yaml.safe_dump(
                    _kubeconfig(
                        api_url,
                        ca=pki.ca_cert,
                        user={"client-certificate": str(pki.admin_cert), "client-key": str(pki.admin_key)},
                    )
                )
            )
            kubeconfig.chmod(0o600)

            kcm_port = free_port()
            kcm = self._spawn(
                "kube-controller-manager",
                [
                    str(self.controller_manager),
                    f"--kubeconfig={kubeconfig}",
                    f"--authentication-kubeconfig={kubeconfig}",
                    f"--authorization-kubeconfig={kubeconfig}",
                    # No front proxy here: do not watch for its request-header CA (log noise only).
                    "--authentication-skip-lookup=true",
                    "--leader-elect=false",
                    f"--controllers={CONTROLLERS}",
                    "--bind-address=127.0.0.1",
                    f"--secure-port={kcm_port}",
                    f"--cert-dir={self.workdir / 'controller-manager'}",
                    f"--root-ca-file={pki.ca_cert}",
                    f"--service-cluster-ip-range={SERVICE_CIDR}",
                    "--profiling=false",
                ],
            )
            insecure = ssl.create_default_context()
            insecure.check_hostname = False
            insecure.verify_mode = ssl.CERT_NONE
            timings["kube-controller-manager"] = wait_until(
                "healthy /healthz",
                lambda: _https_get(f"https://127.0.0.1:{kcm_port}/healthz", insecure)[0] == 200,
                proc=kcm,
                timeout=timeout,
            )
        except BaseException:
            self.stop()
            raise
        timings["total"] = time.monotonic() - started
        return KubePlane(
            kubeconfig=kubeconfig,
            api_url=api_url,
            ca_cert=pki.ca_cert,
            kubectl_path=self.kubectl,
            local=True,
            workdir=self.workdir,
            startup_seconds=timings,
        )

    def _spawn(self, name: str, argv: list[str]) -> ManagedProcess:
        proc = ManagedProcess(name, argv, log_dir=self.log_dir)
        self.procs.append(proc)
        return proc

    def dead(self) -> list[str]:
        """Components that exited on their own (a crash mid-session is a test failure, not a skip)."""
        return [f"{p.name} (exit {p.proc.returncode}, log {p.log_path})" for p in self.procs if not p.alive()]

    def stop(self) -> None:
        # Reverse start order: controllers first, storage last.
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()


def _http_get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return str(resp.read().decode())
    except urllib.error.HTTPError as exc:
        with exc:
            return str(exc.read().decode(errors="replace"))


def describe(plane: KubePlane) -> str:
    return json.dumps(
        {
            "kubeconfig": str(plane.kubeconfig),
            "api_url": plane.api_url,
            "startup_seconds": {k: round(v, 2) for k, v in plane.startup_seconds.items()},
        }
    )
