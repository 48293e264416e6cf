"""A private Dovecot IMAP server for tests: its own configuration in a temporary folder, a
free loopback port, plain-text login with one static password, maildir storage. Skipped with
the reason when Dovecot is not installed (`.ci/run` installs it from Debian's packages)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import free_port, wait_until


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None
    )


@dataclass(frozen=True)
class Imap:
    host: str
    port: int
    user: str
    password: str

    def url(self, folder: str = "INBOX", address: str | None = None) -> str:
        query = f"?address={address}" if address else ""
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/{folder}{query}"


def _config(root: Path, port: int, mail_user: str, service_user: str) -> str:
    account = pwd.getpwnam(mail_user)
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = {account.pw_uid}
default_internal_user = {service_user}
default_internal_group = {service_user}
default_login_user = {service_user}
passdb {{
  driver = static
  args = password=secret
}}
userdb {{
  driver = static
  args = uid={account.pw_uid} gid={account.pw_gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  unix_listener auth-userdb {{
    user = {service_user}
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
"""


@contextmanager
def dovecot_server() -> Iterator[Imap]:
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="cd-dovecot-"))
    # As root, Dovecot serves mail as an unprivileged user; otherwise as the current user.
    me = pwd.getpwuid(os.getuid()).pw_name
    mail_user = "nobody" if os.getuid() == 0 else me
    service_user = "dovenull" if os.getuid() == 0 else me
    port = free_port()
    for folder in ("run", "state", "mail", "home"):
        (root / folder).mkdir()
    if os.getuid() == 0:
        account = pwd.getpwnam(mail_user)
        root.chmod(0o755)
        for folder in ("mail", "home"):
            os.chown(root / folder, account.pw_uid, account.pw_gid)
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, mail_user, service_user))
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: _answers(port) or proc.poll() is not None, timeout=30, what="dovecot")
        if proc.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            raise AssertionError(f"dovecot exited: {log[-3000:]}")
        yield Imap("127.0.0.1", port, "carrierdesk", "secret")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def _answers(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(100).startswith(b"* OK")
    except OSError:
        return False
