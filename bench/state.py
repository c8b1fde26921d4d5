#!/usr/bin/env python3
"""Reads the image and container state of lab daemons straight from their sockets.

    state.py SOCKET...

Prints one line per socket: a digest of the engine's state (every image ID with its parent,
tags and digests, every container with its image and state), then the tags, for the bench
to compare after every run: the same job must leave every engine in the same state whichever
contender did it. Talks HTTP over the unix socket itself (one process for all hosts), so a
check of 8 hosts takes milliseconds and starts no docker CLI.
"""

import hashlib
import json
import sys

from unix_http import UnixConnection


def get(path, url):
    conn = UnixConnection(path)
    try:
        conn.request("GET", url)
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{path}: GET {url}: {answer.status} {body[:200]!r}")
        return json.loads(body)
    finally:
        conn.close()


def state(path):
    images = sorted(
        (
            image["Id"],
            image.get("ParentId") or "",
            ",".join(sorted(t for t in image.get("RepoTags") or [] if not t.startswith("<none>"))),
            ",".join(sorted(d for d in image.get("RepoDigests") or [] if not d.startswith("<none>"))),
        )
        for image in get(path, "/images/json?all=1")
    )
    containers = sorted(
        ((c.get("Names") or ["?"])[0], c["ImageID"], c["State"])
        for c in get(path, "/containers/json?all=1")
    )
    text = json.dumps({"images": images, "containers": containers})
    tags = sorted({t for image in images for t in image[2].split(",") if t})
    return hashlib.sha256(text.encode()).hexdigest()[:16], tags


def main():
    for path in sys.argv[1:]:
        digest, tags = state(path)
        print(digest, " ".join(tags))


if __name__ == "__main__":
    main()
