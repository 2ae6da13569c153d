"""Serve a simulator over HTTPS on loopback, with a throwaway self-signed certificate.

singer-io tap-jira builds every URL as ``https://`` + host, whatever the
configured scheme, so the head-to-head must speak TLS; our connector then
talks to the very same HTTPS server, so both pay the same handshake costs.
The certificate lives in the benchmark's temp directory and is trusted only
by the two clients of this run (``REQUESTS_CA_BUNDLE`` for ours, the peer's
own throwaway venv's CA bundle for tap-jira).
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import BaseWSGIServer, make_server

from continuum.simkit import Simulator


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 valid for a day; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "continuum-bench")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "bench-cert.pem", directory / "bench-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TlsServer:
    """Runs ``sim`` (a WSGI app) on an HTTPS server thread; the simulator's own server stays off."""

    def __init__(self, sim: Simulator, cert: Path, key: Path) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, sim, threaded=True, ssl_context=context)
        self.host = f"127.0.0.1:{self._server.server_port}"
        self.url = f"https://{self.host}"
        sim.base_url = self.url  # self links in answers name the address clients used
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="bench-tls")
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
