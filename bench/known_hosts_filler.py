#!/usr/bin/env python3
"""Prints N known_hosts lines for hosts that are not the bench's, as a bastion's file holds them.

    known_hosts_filler.py N

Half the lines are hashed (`|1|salt|hash`, as `HashKnownHosts yes` writes them), half plain
names, each with an ed25519 key of its own; none names a bench endpoint.
"""

import base64
import hashlib
import hmac
import os
import struct
import sys


def key_blob():
    name = b"ssh-ed25519"
    return base64.b64encode(
        struct.pack(">I", len(name)) + name + struct.pack(">I", 32) + os.urandom(32)
    ).decode()


def main():
    count = int(sys.argv[1])
    out = sys.stdout
    for i in range(count):
        host = f"node{i}.dc{i % 7}.example.net"
        if i % 2:
            salt = os.urandom(20)
            digest = hmac.new(salt, host.encode(), hashlib.sha1).digest()
            field = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"
        else:
            field = host
        out.write(f"{field} ssh-ed25519 {key_blob()}\n")


if __name__ == "__main__":
    main()
