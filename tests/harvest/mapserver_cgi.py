"""MapServer's ``mapserv`` run as a CGI program behind a small HTTP server on 127.0.0.1, as a
department would publish its WFS (a process of its own: GDAL holds the test process while it
reads). ``python mapserver_cgi.py PORT_FILE LOG_FILE /path=CONFIG...``: each service at its path
with its MapServer configuration file; each path and query string is appended to LOG_FILE; the
chosen port is written to PORT_FILE once serving."""

from __future__ import annotations

import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main(port_file: str, log_file: str, *services: str) -> None:
    """Serve each ``/path=config`` until killed."""
    configs = dict(service.split("=", 1) for service in services)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            path, _, query = self.path.partition("?")
            config = configs.get(path)
            if config is None:
                self.send_error(404)
                return
            with open(log_file, "a", encoding="utf-8") as log:
                log.write(f"{path} {query}\n")
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "REQUEST_METHOD": "GET",
                   "QUERY_STRING": query, "MAPSERVER_CONFIG_FILE": config,
                   "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(self.server.server_address[1]),
                   "SCRIPT_NAME": path, "GATEWAY_INTERFACE": "CGI/1.1"}
            out = subprocess.run(["mapserv"], env=env, capture_output=True, check=False).stdout
            head, _, body = out.partition(b"\r\n\r\n")
            self.send_response(200)
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-type":
                    self.send_header("Content-Type", value.strip())
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as out:
        out.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:])
