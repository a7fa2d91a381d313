"""The Ray side of `--engine ray` that is not about articles: reaching (or starting) a cluster, sizing and
creating the pool of Worker actors, shipping local model files to them, and stopping it all. The driver
logic (what to send, in which order, what comes back) is ray_engine.py's; the actors are ray_worker.py's.
Importing this module does not import Ray."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from summarizer.config import Config
from summarizer.errors import SetupError, UsageError
from summarizer.ray_worker import Shipment, Worker, portable_spec
from summarizer.runtime import Runtime

RAY_HINT = "pip install -e '.[ray]', or pip install 'summarizer[ray]'"
# Attempts per call when its worker process dies (Ray's max_task_retries is one less).
MAX_ATTEMPTS = 3
DEFAULT_MAX_CPUS_PER_ACTOR = 4


def require_ray() -> None:
    """A usage error (exit 2) when the [ray] extra is not installed."""
    try:
        found = importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # e.g. a broken or blocked install
        found = False
    if not found:
        raise UsageError("--engine ray needs Ray, which is not installed", hint=RAY_HINT)


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide to run. None means: worked out from the cluster's resources."""

    address: str | None = None  # else RAY_ADDRESS, else a local instance
    actors: int | None = None
    cpus_per_actor: float | None = None
    gpus_per_actor: float = 0.0
    ship_models: bool = False  # send local model files through the object store
    batch_size: int | None = None  # articles per actor call; default: the Runtime's summary batch, or 1


class ActorPool:
    """Worker actors on a Ray cluster for one run. Ray restarts a dead actor (which reloads its models) and
    re-runs its unfinished calls, up to MAX_ATTEMPTS in all."""

    def __init__(self, settings: RaySettings, warn: Callable[[str], None]):
        self.settings, self.warn = settings, warn
        self.actors: list[Any] = []
        self.cpus_per_actor = 0.0
        self.started_ray = False


    def start(self, config: Config, runtime: Runtime, expected: dict[str, list[Any]], work: int) -> None:
        """Connect (or start Ray) and create the actors: each resolves the driver's models, checks their cache
        keys against `expected`, and keeps them loaded. At most `work` actors (one per unit of work)."""
        import ray

        self._connect()
        cpus, actors = self._shape(work)
        # Absolute paths for local models: a worker's working directory is not the driver's.
        update: dict[str, Any] = {"mt_model": portable_spec(runtime.resolved_mt)}
        if "llm" in expected:
            update["llm"] = portable_spec(runtime.resolved_llm)
        if config.threads is None:  # one model thread per CPU Ray reserves for the actor
            update["threads"] = max(1, int(cpus))
        config = config.model_copy(update=update)
        shipments = self._shipments(runtime, expected) if self.settings.ship_models else {}
        actor_class = ray.remote(Worker).options(
            num_cpus=cpus, num_gpus=self.settings.gpus_per_actor or None,
            max_restarts=-1, max_task_retries=MAX_ATTEMPTS - 1,
        )
        self.actors = [actor_class.remote(config, expected, shipments) for _ in range(actors)]
        self.cpus_per_actor = cpus

    def pids(self) -> list[int]:
        """Process ids of the live actors (tests kill them to prove nothing is lost)."""
        import ray

        return ray.get([actor.pid.remote() for actor in self.actors])

    def stop(self) -> None:
        """Kill the actors, and shut down a Ray instance this pool started."""
        if not self.actors and not self.started_ray:
            return
        import ray

        for actor in self.actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.actors = []
        if self.started_ray:
            ray.shutdown()
            self.started_ray = False

    def _connect(self) -> None:
        import logging

        import ray

        if ray.is_initialized():
            return
        address = self.settings.address or os.environ.get("RAY_ADDRESS") or "local"
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        if address == "local":
            options["include_dashboard"] = False
            # A private instance on this machine: its token-auth notice is noise on a one-line-errors CLI.
            logging.getLogger("ray._private.authentication").setLevel(logging.ERROR)
        import signal
        import threading

        sigterm = signal.getsignal(signal.SIGTERM)
        try:
            ray.init(address=address, **options)
            if threading.current_thread() is threading.main_thread():
                # Ray's driver handler exits on SIGTERM at once; keep the CLI's (stop like Ctrl-C, cache kept).
                signal.signal(signal.SIGTERM, sigterm)
        except Exception as exc:  # noqa: BLE001 - Ray raises many types for "cannot reach the cluster"
            raise SetupError(f"cannot start or reach Ray at {address}: {' '.join(str(exc).split())[:300]}",
                             hint="check --ray-address / RAY_ADDRESS and the cluster's auth token (RAY_AUTH_TOKEN)") from None
        self.started_ray = True

    def _shape(self, work: int) -> tuple[float, int]:
        """(CPUs per actor, actors): given, or as many as the alive nodes fit."""
        import ray

        nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
        node_cpus = [resources.get("CPU", 0.0) for resources in nodes]
        gpus = self.settings.gpus_per_actor
        cpus = self.settings.cpus_per_actor
        if cpus is None:
            cpus = 1.0 if gpus else float(max(1, min(DEFAULT_MAX_CPUS_PER_ACTOR, int(max(node_cpus, default=1)))))
        actors = self.settings.actors
        if actors is None:
            if gpus:
                actors = sum(int(resources.get("GPU", 0.0) // gpus) for resources in nodes)
            else:
                actors = sum(int(c // cpus) for c in node_cpus)
            actors = max(1, min(actors, work))
        if cpus * actors > sum(node_cpus) or gpus * actors > sum(r.get("GPU", 0.0) for r in nodes):
            self.warn(f"the Ray cluster has {sum(node_cpus):g} CPUs and "
                      f"{sum(r.get('GPU', 0.0) for r in nodes):g} GPUs now: some of the {actors} actors "
                      "wait until resources appear")
        return cpus, actors

    def _shipments(self, runtime: Runtime, expected: dict[str, list[Any]]) -> dict[str, Shipment]:
        """Local model files into the object store (bounded by its size, by default 30% of a node's RAM)."""
        import ray

        from summarizer.models.resolve import model_files

        resolved = {role: runtime.resolved_mt if role == "mt" else runtime.resolved_llm for role in expected}
        shipped: dict[str, Shipment] = {}
        by_fingerprint: dict[str, Shipment] = {}
        for role, model in resolved.items():
            if model.kind not in ("local", "gguf"):
                self.warn(f"--ray-ship-models ships local directories and .gguf files; workers must have "
                          f"{model.display} in their own Hugging Face cache")
                continue
            if model.fingerprint not in by_fingerprint:
                directory = Path(model.location)
                files = [directory / model.gguf_file] if model.gguf_file else model_files(directory)
                by_fingerprint[model.fingerprint] = Shipment(
                    fingerprint=model.fingerprint, gguf_file=model.gguf_file,
                    files={path.name: ray.put(path.read_bytes()) for path in files})
            shipped[role] = by_fingerprint[model.fingerprint]
        return shipped
