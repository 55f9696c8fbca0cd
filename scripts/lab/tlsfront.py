"""A TLS front for the emulator on loopback, for the fault matrix's TLS row: it terminates HTTPS
with a certificate of a lab CA (the daemon trusts it through `ca_file`) and passes the bytes on
to the emulator's plain HTTP port. Switched to "wrong certificate", it presents a certificate of
another CA, as a misconfigured proxy or an interception box would, and drops open connections so
that pooled ones do not hide the fault. Standard library and the openssl command only.
"""

import os
import select
import socket
import ssl
import subprocess
import threading


def _openssl(*arguments, cwd):
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificate(directory, name):
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    folder = os.path.join(directory, name)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", f"/CN={name} lab CA",
             cwd=folder)
    _openssl("req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=folder)
    with open(os.path.join(folder, "extensions"), "w") as extensions:
        extensions.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "extensions", cwd=folder)
    return tuple(os.path.join(folder, file) for file in ("ca.pem", "server.pem", "server.key"))


class TLSFront:
    def __init__(self, directory, target_port):
        self.target_port = target_port
        self.trusted_ca, good_cert, good_key = make_certificate(directory, "trusted")
        _, bad_cert, bad_key = make_certificate(directory, "untrusted")
        self.contexts = {False: self._context(good_cert, good_key), True: self._context(bad_cert, bad_key)}
        self.wrong_certificate = False
        self.connections = 0
        self.failed_handshakes = 0
        self._open = set()
        self._lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.base = f"https://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    @staticmethod
    def _context(cert, key):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.set_alpn_protocols(["http/1.1"])
        return context

    def use_wrong_certificate(self, wrong):
        with self._lock:
            self.wrong_certificate = wrong
            for connection in list(self._open):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        with self._lock:
            self.connections += 1
            context = self.contexts[self.wrong_certificate]
        client.settimeout(30)
        try:
            secure = context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            with self._lock:
                self.failed_handshakes += 1
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        with self._lock:
            self._open.add(secure)
        self._relay(secure, upstream)
        with self._lock:
            self._open.discard(secure)

    @staticmethod
    def _relay(secure, upstream):
        """Both directions in one thread: an SSL socket must not be read and written from two at once."""
        try:
            while True:
                readable, _, _ = select.select([secure, upstream], [], [], 60)
                if not readable:
                    break
                if secure in readable:
                    data = secure.recv(65536)
                    if not data:
                        break
                    upstream.sendall(data)
                    while secure.pending():
                        upstream.sendall(secure.recv(65536))
                if upstream in readable:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    secure.sendall(data)
        except OSError:
            pass
        for side in (secure, upstream):
            try:
                side.close()
            except OSError:
                pass

    def close(self):
        self.listener.close()
