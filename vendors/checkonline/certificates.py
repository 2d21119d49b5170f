"""The client certificate of mutual TLS as file paths, which ``requests`` needs."""

import os
import shutil
import stat
import tempfile
from contextlib import contextmanager

from cryptography.hazmat.primitives import serialization


@contextmanager
def certificate_files(cert_pem, key_pem, key_password=None):
    """A client certificate and its key as file paths for ``cert_file``/``key_file``.

    ``cert_pem``/``key_pem`` are PEM bytes or text (e.g. ``certificate.certificate.pem_certificate``
    and ``private_key_id.pem_key`` after base64 decoding). An encrypted key is decrypted with
    ``key_password`` (``requests`` cannot take a password and OpenSSL would prompt on a terminal).
    On Linux the files live in memory only (``memfd_create``): nothing reaches the disk, and
    they vanish with the process even if it is killed. Elsewhere they are private temporary
    files, removed on exit.
    """
    cert_bytes = cert_pem.encode() if isinstance(cert_pem, str) else bytes(cert_pem)
    key_bytes = key_pem.encode() if isinstance(key_pem, str) else bytes(key_pem)
    if b"ENCRYPTED" in key_bytes or key_password:
        if not key_password:
            raise ValueError("The client certificate's private key is encrypted: its password is needed.")
        password = key_password.encode() if isinstance(key_password, str) else key_password
        key = serialization.load_pem_private_key(key_bytes, password=password)
        key_bytes = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    contents = (("client.pem", cert_bytes), ("client.key", key_bytes))
    if _memory_files_supported():
        with _memory_files(contents) as paths:
            yield paths
        return
    with _private_files(contents) as paths:
        yield paths


def _memory_files_supported():
    return hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")


@contextmanager
def _memory_files(contents):
    descriptors = []
    try:
        for name, content in contents:
            descriptor = os.memfd_create(f"kkm-checkonline-{name}", os.MFD_CLOEXEC)
            descriptors.append(descriptor)
            os.write(descriptor, content)
        yield tuple(f"/proc/self/fd/{descriptor}" for descriptor in descriptors)
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


@contextmanager
def _private_files(contents):
    folder = tempfile.mkdtemp(prefix="kkm-checkonline-")
    try:
        os.chmod(folder, stat.S_IRWXU)
        paths = []
        for name, content in contents:
            path = os.path.join(folder, name)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
            paths.append(path)
        yield tuple(paths)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
