"""A tiny stand-in for the Hugging Face hub's HTTP API on 127.0.0.1, for download tests.

It answers the requests huggingface_hub makes (read from its source, 2.x):
- `GET /api/models/{repo}/revision/{rev}` (model_info / repo_info; `?blobs=true` adds sizes and LFS hashes),
- `GET /api/models/{repo}/tree/{rev}` (list_repo_tree, used by snapshot_download),
- `HEAD` and `GET /{repo}/resolve/{rev}/{file}` with X-Repo-Commit, ETag and Content-Length,
and 404s with the hub's X-Error-Code for unknown repos, revisions and files. Every request is recorded,
so a test can assert that a run did not touch the network.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class Repo:
    commit: str
    files: dict[str, bytes]
    refs: dict[str, str] = field(default_factory=dict)  # extra refs (main always names `commit`)
    licence: str = "apache-2.0"

    def resolve(self, revision: str) -> str | None:
        if revision in (self.commit, "main"):
            return self.commit
        return self.refs.get(revision)


def repo_from_dir(directory: Path, commit: str, **kwargs) -> Repo:
    """A Repo serving every top-level file of `directory` (e.g. a tiny model from summarizer/models/tiny.py)."""
    files = {path.name: path.read_bytes() for path in sorted(Path(directory).iterdir()) if path.is_file()}
    return Repo(commit=commit, files=files, **kwargs)


class HubServer:
    """`with HubServer({"org/name": Repo(...)}) as hub:` then HF_ENDPOINT=hub.url."""

    def __init__(self, repos: dict[str, Repo]):
        self.repos = repos
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "HubServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def _answer(self, head: bool) -> None:
                with hub._lock:
                    hub.requests.append((self.command, self.path))
                path = urlsplit(self.path).path
                query = urlsplit(self.path).query
                parts = [unquote(p) for p in path.strip("/").split("/")]
                if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] in ("revision", "tree"):
                    repo_id, kind, revision = f"{parts[2]}/{parts[3]}", parts[4], "/".join(parts[5:])
                    self._api(repo_id, kind, revision, blobs="blobs=true" in query.lower())
                elif len(parts) >= 5 and parts[2] == "resolve":
                    self._file(f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]), head)
                else:
                    self._error(404, "RepoNotFound", "not found")

            def _repo(self, repo_id: str, revision: str) -> tuple[Repo, str] | None:
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
                    return None
                # A tree listing's revision may carry a path after the ref; refs like refs/pr/1 have slashes.
                for candidate in (revision, *(revision.rsplit("/", n)[0] for n in range(1, revision.count("/") + 1))):
                    commit = repo.resolve(candidate)
                    if commit:
                        return repo, commit
                self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
                return None

            def _api(self, repo_id: str, kind: str, revision: str, blobs: bool) -> None:
                found = self._repo(repo_id, revision)
                if not found:
                    return
                repo, commit = found
                if kind == "revision":
                    siblings = [{"rfilename": name} for name in repo.files]
                    if blobs:
                        for sibling in siblings:
                            data = repo.files[sibling["rfilename"]]
                            sibling.update(size=len(data), blobId=_git_sha(data),
                                           lfs={"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                                                "pointerSize": 134})
                    body = {"id": repo_id, "modelId": repo_id, "sha": commit, "private": False,
                            "siblings": siblings, "cardData": {"license": repo.licence}, "tags": []}
                else:
                    body = [{"type": "file", "path": name, "size": len(data), "oid": _git_sha(data),
                             "lfs": {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}}
                            for name, data in repo.files.items()]
                self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"}, head=False)

            def _file(self, repo_id: str, revision: str, filename: str, head: bool) -> None:
                found = self._repo(repo_id, revision)
                if not found:
                    return
                repo, commit = found
                data = repo.files.get(filename)
                if data is None:
                    self._error(404, "EntryNotFound", f"{filename} does not exist", commit=commit)
                    return
                etag = f'"{hashlib.sha256(data).hexdigest()}"'
                self._send(200, data, {"X-Repo-Commit": commit, "ETag": etag, "X-Linked-Etag": etag,
                                       "X-Linked-Size": str(len(data)), "Accept-Ranges": "bytes",
                                       "Content-Type": "application/octet-stream"}, head=head)

            def _error(self, status: int, code: str, message: str, commit: str | None = None) -> None:
                headers = {"X-Error-Code": code, "X-Error-Message": message, "Content-Type": "application/json"}
                if commit:
                    headers["X-Repo-Commit"] = commit
                self._send(status, json.dumps({"error": message}).encode(), headers, head=self.command == "HEAD")

            def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        return Handler


def _git_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
