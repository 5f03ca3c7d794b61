"""A fake GitHub release download server for .ci/action-test.sh, on 127.0.0.1 only.

  release_server.py make SRV TAG BINARY COMMIT TARGET...
      Writes SRV/<repo>/releases/download/<TAG>/ for three repos: good/ (every asset packed
      the way release.yml packs it, right SHA256SUMS, COMMIT), badsum/ (a wrong hash for
      each asset) and noasset/ (SHA256SUMS lists the assets, none is there).
  release_server.py serve SRV PORT_FILE LOG_FILE [CERT KEY]
      Serves SRV over http (and https with CERT/KEY, on a second port); writes
      "<http port> <https port or 0>" to PORT_FILE and logs "<scheme> <path>" per request.
      Paths starting with these serve the rest of the path after a detour:
        /redirect-https/  302 to the same path on the https port
        /redirect-http/   302 to the same path on the http port
        /redirect-rel/    302 to the same path, as a relative Location
        /status-500/      always 500
        /flaky-<any>/     503 on the first request for each path, then the file
"""
import functools, hashlib, http.server, io, os, ssl, sys, tarfile, threading, zipfile


def make(srv, tag, binary, commit, targets):
    data = open(binary, "rb").read()

    def pack(target):
        buf = io.BytesIO()
        if "windows" in target:
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                info = zipfile.ZipInfo("posteverywhere-wait.exe")
                info.external_attr = 0o755 << 16
                z.writestr(info, data)
            return "posteverywhere-wait-%s.zip" % target, buf.getvalue()
        with tarfile.open(fileobj=buf, mode="w:gz") as t:
            info = tarfile.TarInfo("posteverywhere-wait")
            info.size, info.mode = len(data), 0o755
            t.addfile(info, io.BytesIO(data))
        return "posteverywhere-wait-%s.tar.gz" % target, buf.getvalue()

    assets = [pack(t) for t in targets]
    for repo, wrong, with_assets in (("good", False, True), ("badsum", True, True), ("noasset", False, False)):
        d = os.path.join(srv, repo, "releases", "download", tag)
        os.makedirs(d)
        lines = []
        for name, blob in assets:
            h = hashlib.sha256(blob + (b"tampered" if wrong else b"")).hexdigest()
            lines.append("%s  %s\n" % (h, name))
            if with_assets:
                open(os.path.join(d, name), "wb").write(blob)
        open(os.path.join(d, "SHA256SUMS"), "w", newline="\n").write("".join(lines))
        open(os.path.join(d, "COMMIT"), "w", newline="\n").write(commit + "\n")


def serve(srv, port_file, log_file, cert=None, key=None):
    ports = {}
    seen = set()
    lock = threading.Lock()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def detour(self, code, location=None):
            self.send_response(code)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
            with lock, open(log_file, "a") as f:
                f.write("%s %s\n" % (scheme, self.path))
            first_segment = "/" + self.path.split("/")[1]
            prefix = "/flaky" if first_segment.startswith("/flaky-") else first_segment
            if prefix not in ("/redirect-https", "/redirect-http", "/redirect-rel", "/status-500", "/flaky"):
                return super().do_GET()
            rest = self.path[len(first_segment):]
            if prefix == "/redirect-https":
                return self.detour(302, "https://127.0.0.1:%d%s" % (ports["https"], rest))
            if prefix == "/redirect-http":
                return self.detour(302, "http://127.0.0.1:%d%s" % (ports["http"], rest))
            if prefix == "/redirect-rel":
                return self.detour(302, rest)
            if prefix == "/status-500":
                return self.detour(500)
            with lock:
                first = self.path not in seen
                seen.add(self.path)
            if first:
                return self.detour(503)
            self.path = rest
            return super().do_GET()

    handler = functools.partial(Handler, directory=srv)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ports["http"] = plain.server_address[1]
    ports["https"] = 0
    servers = [plain]
    if cert:
        tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        # busybox wget's own TLS sends no signature_algorithms, which TLS 1.2 reads as
        # "SHA-1 only"; OpenSSL accepts that only at security level 0 (a loopback test server).
        try:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except ssl.SSLError:  # a TLS library without security levels (LibreSSL)
            pass
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        ports["https"] = tls.server_address[1]
        servers.append(tls)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d %d\n" % (ports["http"], ports["https"]))
    os.replace(port_file + ".tmp", port_file)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    plain.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    else:
        serve(*sys.argv[2:])
