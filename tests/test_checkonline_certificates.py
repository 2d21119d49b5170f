"""The Checkonline client certificate as files: in memory, or private and removed."""

import os
import tempfile
from unittest.mock import patch

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..vendors.checkonline import (
    certificate_files,
    certificates,
)
from .common import KkmCase


class TestCertificateFiles(KkmCase):
    def _encrypted_key(self):
        key = ec.generate_private_key(ec.SECP256R1())
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )

    def _check_files(self, cert, key_path):
        with open(key_path, "rb") as handle:
            plain = handle.read()
        self.assertNotIn(b"ENCRYPTED", plain)
        serialization.load_pem_private_key(plain, password=None)
        with open(cert, "rb") as handle:
            self.assertEqual(handle.read(), b"-----BEGIN CERTIFICATE-----\n")

    def test_the_key_lives_in_memory_only(self):
        encrypted = self._encrypted_key()
        with self.assertRaises(ValueError):
            with certificate_files(b"CERT", encrypted):
                pass  # an encrypted key without its password would make OpenSSL prompt
        before = set(os.listdir(tempfile.gettempdir()))
        with certificate_files("-----BEGIN CERTIFICATE-----\n", encrypted, key_password="secret") as (
            cert,
            key_path,
        ):
            # Anonymous memory: a worker killed now leaves nothing on any disk.
            self.assertTrue(key_path.startswith("/proc/self/fd/"), key_path)
            self.assertEqual(set(os.listdir(tempfile.gettempdir())), before)
            self._check_files(cert, key_path)
        self.assertFalse(os.path.exists(key_path))

    def test_without_memory_files_they_are_private_and_removed(self):
        encrypted = self._encrypted_key()
        with patch.object(certificates, "_memory_files_supported", lambda: False):
            with certificate_files("-----BEGIN CERTIFICATE-----\n", encrypted, key_password="secret") as (
                cert,
                key_path,
            ):
                self.assertEqual(os.stat(key_path).st_mode & 0o777, 0o600)
                self.assertEqual(os.stat(os.path.dirname(key_path)).st_mode & 0o777, 0o700)
                self._check_files(cert, key_path)
        self.assertFalse(os.path.exists(os.path.dirname(key_path)))
