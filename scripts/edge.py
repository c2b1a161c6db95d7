"""The deployed shop's CloudFront, for local runs of the Lambda function.

On AWS, CloudFront serves the static files (infra/static-paths.json, which
infra/lib/shop-stack.ts makes the distribution's behaviors) from S3 and
sends everything else to the function. This does the same on loopback: the
same paths from the site directory, the rest to cargo lambda watch, so the
function answers only what it answers on AWS.
To what it forwards it adds what CloudFront adds: the viewer's address
(`CloudFront-Viewer-Address`, as the origin request policy forwards it),
its own address appended to `X-Forwarded-For` (the edge, which the function
must not take for the client), and the origin secret (`X-Origin-Verify`,
from the environment variable SHOP_ORIGIN_SECRET), without which the
function answers 403. A chunked request body is read whole and forwarded
with its length, as CloudFront does.

Usage: SHOP_ORIGIN_SECRET=... edge.py HOST PORT SITE_DIR ORIGIN_HOST ORIGIN_PORT
"""

import http.client
import json
import mimetypes
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# CloudFront's path patterns for the bucket, the stack's own list.
STATIC_PATHS_FILE = Path(__file__).resolve().parent.parent / "infra" / "static-paths.json"


def static_paths(file=STATIC_PATHS_FILE):
    """The patterns as (prefixes, exact paths): `/pkg/*` is the prefix
    `/pkg/`, a pattern without a wildcard one path. Other wildcards are
    refused rather than routed differently from CloudFront."""
    prefixes, files = [], []
    for pattern in json.loads(file.read_text(encoding="utf-8")):
        path = pattern[:-1] if pattern.endswith("/*") else pattern
        if "*" in path or "?" in path:
            raise ValueError(f"{file}: edge.py does not route the pattern {pattern!r}")
        (prefixes if path != pattern else files).append(path)
    return tuple(prefixes), tuple(files)


STATIC_PREFIXES, STATIC_FILES = static_paths()

# Hop-by-hop headers (RFC 9110, 7.6.1) are not forwarded; Host is the
# origin's, as with CloudFront's ALL_VIEWER_EXCEPT_HOST_HEADER policy.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}

# The address this edge appends to X-Forwarded-For: a stand-in for a
# CloudFront edge's (documentation range, RFC 5737).
EDGE_ADDRESS = "192.0.2.250"

mimetypes.add_type("application/wasm", ".wasm")


class Edge(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    site: Path
    origin: tuple[str, int]
    origin_secret: str

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        sys.stderr.write("edge: " + (format % args) + "\n")

    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def do_PATCH(self):
        self.route()

    def route(self):
        path = self.path.split("?", 1)[0]
        if self.command in ("GET", "HEAD") and (
            path.startswith(STATIC_PREFIXES) or path in STATIC_FILES
        ):
            self.serve_file(path)
        else:
            self.forward()

    def serve_file(self, path):
        file = (self.site / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.site) or not file.is_file():
            # S3 behind an origin access control answers 403 for a missing key.
            self.answer(403, b"not found", "text/plain")
            return
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self.answer(200, file.read_bytes(), content_type)

    def answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    # Trailers, if any, end with an empty line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def forward(self):
        body = self.read_body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        # What the viewer sent under CloudFront's own names is replaced.
        for name in list(headers):
            if name.lower() in ("cloudfront-viewer-address", "x-origin-verify"):
                del headers[name]
        viewer_ip, viewer_port = self.client_address[:2]
        headers["CloudFront-Viewer-Address"] = f"{viewer_ip}:{viewer_port}"
        forwarded = self.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{forwarded}, {viewer_ip}" if forwarded else viewer_ip
        headers["X-Forwarded-For"] += f", {EDGE_ADDRESS}"
        headers["X-Origin-Verify"] = Edge.origin_secret
        if body is not None:
            headers["Content-Length"] = str(len(body))
        origin = http.client.HTTPConnection(*self.origin, timeout=120)
        try:
            origin.request(self.command, self.path, body=body, headers=headers)
            reply = origin.getresponse()
            content = reply.read()
        except OSError as error:
            self.log_message("origin unreachable: %s", error)
            self.answer(502, b"the function is unreachable", "text/plain")
            return
        finally:
            origin.close()
        self.send_response(reply.status, reply.reason)
        for name, value in reply.getheaders():  # one entry per Set-Cookie
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)


def main():
    host, port, site, origin_host, origin_port = sys.argv[1:6]
    Edge.site = Path(site).resolve()
    Edge.origin = (origin_host, int(origin_port))
    Edge.origin_secret = os.environ["SHOP_ORIGIN_SECRET"]
    ThreadingHTTPServer((host, int(port)), Edge).serve_forever()


if __name__ == "__main__":
    main()
