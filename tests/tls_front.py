"""A TLS front for a local server: the deployed handlers' HTTPS client, tested end to end.

Makes a certificate authority and a server certificate for 127.0.0.1 and localhost, writes the
authority's certificate (PEM) to CA_FILE, then accepts TLS connections on 127.0.0.1:PORT and
passes each one's bytes to 127.0.0.1:TARGET and back. Prints "ready" once it listens.

Usage: python tls_front.py CA_FILE PORT TARGET
"""

import datetime
import ipaddress
import os
import socket
import ssl
import sys
import tempfile
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ca_file, port, target = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
now = datetime.datetime.now(datetime.timezone.utc)


def certificate(subject, key, issuer, issuer_key, ca):
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


ca_key = ec.generate_private_key(ec.SECP256R1())
ca = certificate("iamwatch test authority", ca_key, "iamwatch test authority", ca_key, True)
key = ec.generate_private_key(ec.SECP256R1())
leaf = certificate("localhost", key, "iamwatch test authority", ca_key, False)

pem = serialization.Encoding.PEM
with open(ca_file, "wb") as f:
    f.write(ca.public_bytes(pem))
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
with tempfile.TemporaryDirectory() as d:
    chain, secret = os.path.join(d, "chain.pem"), os.path.join(d, "key.pem")
    with open(chain, "wb") as f:
        f.write(leaf.public_bytes(pem) + ca.public_bytes(pem))
    with open(secret, "wb") as f:
        f.write(
            key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    context.load_cert_chain(chain, secret)


def pump(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn):
    try:
        tls = context.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        # A client that refuses the certificate ends here; say so in the log.
        print(f"handshake failed: {e}", file=sys.stderr, flush=True)
        conn.close()
        return
    upstream = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pump, args=(upstream, tls), daemon=True).start()
    pump(tls, upstream)


listener = socket.create_server(("127.0.0.1", port))
print("ready", flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
