"""A throwaway PKI for the mutual-TLS tests: a CA, the sandbox's server certificate, a client
certificate, and a "rogue" one signed by another CA."""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def name_of(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(key, subject, issuer_key, issuer, *, ca=False, usage=None, names=None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class Pki:
    """CA + server certificate + a client certificate it signed + one signed by another CA."""

    def __init__(self, folder):
        self.folder = folder
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = certificate(ca_key, name_of("kkm test CA"), ca_key, name_of("kkm test CA"), ca=True)
        self.ca = self._write("ca.pem", ca)
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = certificate(
            server_key,
            name_of("127.0.0.1"),
            ca_key,
            ca.subject,
            usage=ExtendedKeyUsageOID.SERVER_AUTH,
            names=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
        )
        self.server_cert, self.server_key = (
            self._write("server.pem", server),
            self._write_key("server.key", server_key),
        )
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = certificate(
            client_key, name_of("shop"), ca_key, ca.subject, usage=ExtendedKeyUsageOID.CLIENT_AUTH
        )
        self.client = (self._write("client.pem", client), self._write_key("client.key", client_key))
        rogue_ca_key = ec.generate_private_key(ec.SECP256R1())
        rogue_key = ec.generate_private_key(ec.SECP256R1())
        rogue = certificate(
            rogue_key,
            name_of("shop"),
            rogue_ca_key,
            name_of("other CA"),
            usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        )
        self.rogue = (self._write("rogue.pem", rogue), self._write_key("rogue.key", rogue_key))

    def _write(self, name, certificate):
        path = os.path.join(self.folder, name)
        with open(path, "wb") as handle:
            handle.write(certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def _write_key(self, name, key):
        path = os.path.join(self.folder, name)
        with open(path, "wb") as handle:
            handle.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        return path
