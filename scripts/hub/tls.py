"""TLS for the class hub when students reach it over the school's network (docs/classroom-server.md).

    .venv/bin/python scripts/hub/tls.py banner        (start.sh: the URLs and the fingerprint)
    .venv/bin/python scripts/hub/tls.py fingerprint CERT.pem

The teacher either brings a certificate (SEQHUB_CERT + SEQHUB_KEY, e.g. from the school's IT or
Let's Encrypt) or, on first start, gets a self-signed one in the state directory
(tls-cert.pem / tls-key.pem, kept across restarts so the fingerprint stays the same). A browser
warns about a self-signed certificate; the students compare its SHA-256 fingerprint (printed
here, shown by the browser under "certificate details") with the one the teacher wrote on the
board, and continue only when they match. To make a new one (e.g. the server's address changed),
delete the two files and start the hub again.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def settings(env=os.environ) -> dict:
    """Where the hub listens and which certificate it serves (None: plain HTTP on loopback)."""
    host = env.get("SEQHUB_HOST", "").strip() or "127.0.0.1"
    port = int(env.get("SEQHUB_PORT", "").strip() or 8000)
    state = Path(env.get("SEQHUB_STATE_DIR", "") or ROOT / "artifacts" / "hub")
    cert, key = env.get("SEQHUB_CERT", "").strip(), env.get("SEQHUB_KEY", "").strip()
    if bool(cert) != bool(key):
        raise ValueError("give both SEQHUB_CERT and SEQHUB_KEY (the certificate and its private "
                         f"key, PEM files), got cert={cert!r} key={key!r}")
    if cert:
        for path in (cert, key):
            if not Path(path).is_file():
                raise ValueError(f"TLS file {path!r} does not exist")
        own = True
    elif host in LOOPBACK:
        return {"host": host, "port": port, "cert": None, "key": None, "own": False}
    else:       # reachable from other machines: never plain HTTP
        cert, key = str(state / "tls-cert.pem"), str(state / "tls-key.pem")
        own = False
    return {"host": host, "port": port, "cert": cert, "key": key, "own": own}


def local_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (the ones students can type)."""
    try:
        import psutil
    except ImportError:
        return []
    out = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                out.append(a.address)
    return sorted(set(out))


def ensure_self_signed(cert: Path, key: Path, host: str) -> bool:
    """Write a self-signed certificate for `host` (0.0.0.0: every local address) unless one is
    there already. True when a new one was made."""
    cert, key = Path(cert), Path(key)
    if cert.exists() and key.exists():
        return False
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    names = {socket.gethostname(), "localhost"}
    ips = {"127.0.0.1", *local_addresses()}
    if host not in ("0.0.0.0", "", "::"):
        try:
            ips.add(str(ipaddress.ip_address(host)))
        except ValueError:
            names.add(host)
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seqcourse class hub"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "self-signed")])
    now = datetime.datetime.now(datetime.timezone.utc)
    san = [x509.DNSName(n) for n in sorted(names)] + [
        x509.IPAddress(ipaddress.ip_address(i)) for i in sorted(ips)]
    built = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
             .public_key(private.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=825))
             .add_extension(x509.SubjectAlternativeName(san), critical=False)
             # CA:TRUE so that a laptop can also import it as a trusted certificate
             .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                          content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False,
                                          crl_sign=False, encipher_only=False,
                                          decipher_only=False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                            critical=False)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(private.public_key()),
                            critical=False)
             .sign(private, hashes.SHA256()))
    key.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    cert.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    return True


def fingerprint(cert_pem: str | bytes | Path) -> str:
    """SHA-256 fingerprint of a PEM certificate (a path or the PEM text), as AB:CD:..."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    data = Path(cert_pem).read_bytes() if isinstance(cert_pem, Path) else cert_pem
    if isinstance(data, str):
        data = Path(data).read_bytes() if "BEGIN CERTIFICATE" not in data else data.encode()
    cert = x509.load_pem_x509_certificate(data)
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def prepare(env=os.environ) -> dict:
    """settings() plus the self-signed certificate made when needed, and its fingerprint."""
    s = settings(env)
    s["new"] = False
    if s["cert"] and not s["own"]:
        s["new"] = ensure_self_signed(Path(s["cert"]), Path(s["key"]), s["host"])
    s["fingerprint"] = fingerprint(Path(s["cert"])) if s["cert"] else None
    return s


def banner(env=os.environ) -> str:
    s = prepare(env)
    scheme = "https" if s["cert"] else "http"
    hosts = local_addresses() if s["host"] in ("0.0.0.0", "::") else [s["host"]]
    port = "" if (scheme, s["port"]) == ("https", 443) else f":{s['port']}"
    lines = [f"start.sh: the class hub: {scheme}://{h}{port}/" for h in hosts or [s["host"]]]
    if s["cert"]:
        kind = ("the teacher's certificate " + s["cert"]) if s["own"] else (
            ("a NEW self-signed certificate " if s["new"] else "the self-signed certificate ")
            + s["cert"])
        lines.append(f"start.sh: TLS with {kind}")
        lines.append(f"start.sh: SHA-256 fingerprint (students compare it with the browser's): "
                     f"{s['fingerprint']}")
        if s["host"] not in LOOPBACK:
            lines.append(f"start.sh: open only TCP port {s['port']} in the firewall; plain HTTP "
                         "on it is refused")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["banner"]:
        try:
            print(banner(), file=sys.stderr)
        except ValueError as exc:
            print(f"start.sh: {exc}", file=sys.stderr)
            return 2
        return 0
    if argv[:1] == ["fingerprint"] and len(argv) == 2:
        print(fingerprint(Path(argv[1])))
        return 0
    print("\n".join(__doc__.strip().splitlines()[2:4]), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
