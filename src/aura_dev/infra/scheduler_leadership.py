"""When the scheduler really serves, and how a restart on kept data avoids the 20 s wait.

The scheduler (Dapr 1.14 to 1.18, through diagridio/go-etcd-cron) serves jobs and actor
reminders only once its cron holds leadership: the key `dapr/leadership/<id>` in its
embedded etcd, bound to a lease with a 20 s TTL that the scheduler keeps alive and revokes
when it stops cleanly.  A scheduler killed -9 leaves key and lease behind; the next one on
the same data cannot write its key until that lease expires, which etcd, extending every
lease when it restarts, lets happen only about 22 s later.  Its /healthz answers 200 within
0.1 s all the same, while every sidecar waits for its hosts.

So aura remembers the lease of each scheduler it runs (`.aura/scheduler/leadership-lease`),
and when it starts the next one it revokes that lease through etcd's JSON gateway as soon
as etcd answers: the stale key goes, the new scheduler takes leadership at once, and every
job and reminder stays.  Only a lease aura recorded is revoked — that of a scheduler which
has exited before the new one was started — never the new one's (a fresh lease has a new
id).  And "ready" means what a sidecar needs: /healthz 200 *and* leadership held by a lease
that is not the stale one.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

from aura_dev.atomic import write_atomic
from aura_dev.plan.infra import scheduler_dir
from aura_dev.units.probes import http_json, http_status

LEASE_FILE = "leadership-lease"
LEADERSHIP_PREFIX = b"dapr/leadership/"
# Past this long with /healthz answering and still no leadership to see (a scheduler that
# keeps it elsewhere), /healthz alone decides, as it did before aura looked further.
LEADERSHIP_GRACE_SECONDS = 30.0


def lease_file(state_dir: Path) -> Path:
    return scheduler_dir(state_dir) / LEASE_FILE


def recorded_lease(state_dir: Path) -> str | None:
    try:
        text = lease_file(state_dir).read_text().strip()
    except OSError:
        return None
    return text if text.isdigit() else None


def record_lease(state_dir: Path, lease: str) -> None:
    # Not fsynced: it must survive a kill -9 of aura (the page cache does), and after a
    # crash of the machine etcd has forgotten nothing that this file could help with.
    write_atomic(lease_file(state_dir), lease + "\n", durable=False)


def _prefix_range(prefix: bytes) -> dict[str, str]:
    end = prefix[:-1] + bytes([prefix[-1] + 1])  # every key that starts with `prefix`
    return {"key": base64.b64encode(prefix).decode(), "range_end": base64.b64encode(end).decode()}


class SchedulerReadiness:
    """The readiness probe of one scheduler process (a new one for every start)."""

    def __init__(self, state_dir: Path, host: str, *, healthz_port: int, etcd_port: int) -> None:
        self.state_dir = state_dir
        self.host = host
        self.healthz_port = healthz_port
        self.etcd_port = etcd_port
        self.stale = recorded_lease(state_dir)
        self.revoked = self.stale is None
        self.healthy_since: float | None = None

    def adopting(self) -> None:
        """The scheduler watched is the one that holds the recorded lease (kept running by
        `infra.keep`): that lease is alive, not stale, and must not be revoked."""
        self.stale, self.revoked = None, True

    async def __call__(self) -> bool:
        # /healthz covers the embedded etcd: once it answers, so does etcd's gateway.
        if await http_status(self.host, self.healthz_port, "/healthz") != 200:
            return False
        if not self.revoked:
            # Revoked, already expired, or refused: after one try it holds nothing we can free.
            await http_json(self.host, self.etcd_port, "POST", "/v3/lease/revoke", {"ID": self.stale})
            self.revoked = True
        now = time.monotonic()
        if self.healthy_since is None:
            self.healthy_since = now
        holder = await self.leadership_lease()
        if holder is not None:
            record_lease(self.state_dir, holder)
            return True
        return now - self.healthy_since > LEADERSHIP_GRACE_SECONDS

    async def leadership_lease(self) -> str | None:
        """The lease holding leadership, if a lease other than the stale one does."""
        answer = await http_json(self.host, self.etcd_port, "POST", "/v3/kv/range", _prefix_range(LEADERSHIP_PREFIX))
        if answer is None or answer[0] != 200 or not isinstance(answer[1], dict):
            return None
        for kv in answer[1].get("kvs") or []:
            lease = str(kv.get("lease") or "")
            if lease.isdigit() and lease != "0" and lease != self.stale:
                return lease
        return None
