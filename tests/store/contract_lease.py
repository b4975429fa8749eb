"""The store contract, part 3: the writer lease (one run writes a store at a time).

Times are plain numbers chosen here, so no test waits on a clock.
"""

from __future__ import annotations

from pipeline.store import Store
from pipeline.store_base import Lease


def lease(holder: str, expires_at: float = 200.0, pid: int = 11, host: str = "h1") -> Lease:
    return Lease("writer", holder, host, pid, acquired_at=100.0, expires_at=expires_at)


class Leases:
    def test_a_free_lease_is_acquired_and_readable(self, store: Store) -> None:
        assert store.current_lease("writer") is None
        assert store.acquire_lease(lease("run-a"), now=100.0) == lease("run-a")
        assert store.current_lease("writer") == lease("run-a")

    def test_a_held_lease_is_refused_and_names_its_holder(self, store: Store) -> None:
        store.acquire_lease(lease("run-a"), now=100.0)
        held = store.acquire_lease(lease("run-b", pid=22, host="h2"), now=150.0)
        assert (held.holder, held.host, held.pid, held.acquired_at) == ("run-a", "h1", 11, 100.0)
        assert store.current_lease("writer") == lease("run-a")

    def test_renewal_keeps_the_lease_past_its_first_expiry(self, store: Store) -> None:
        store.acquire_lease(lease("run-a"), now=100.0)
        assert store.renew_lease("writer", "run-a", expires_at=400.0)
        assert store.acquire_lease(lease("run-b", expires_at=600.0), now=300.0).holder == "run-a"
        assert not store.renew_lease("writer", "run-b", expires_at=900.0)  # only the holder renews
        assert store.current_lease("writer").expires_at == 400.0  # type: ignore[union-attr]

    def test_an_expired_lease_is_taken_over(self, store: Store) -> None:
        store.acquire_lease(lease("run-a", expires_at=200.0), now=100.0)
        assert store.acquire_lease(lease("run-b", expires_at=500.0), now=200.0) == lease("run-b", expires_at=500.0)
        assert not store.renew_lease("writer", "run-a", expires_at=900.0)  # the dead run lost it

    def test_a_dead_holder_is_taken_over_only_while_it_still_holds(self, store: Store) -> None:
        store.acquire_lease(lease("run-a"), now=100.0)
        assert store.take_over_lease(lease("run-b"), stale_holder="run-a")
        assert store.current_lease("writer").holder == "run-b"  # type: ignore[union-attr]
        # a third run that also judged run-a dead comes too late
        assert not store.take_over_lease(lease("run-c"), stale_holder="run-a")
        assert store.current_lease("writer").holder == "run-b"  # type: ignore[union-attr]

    def test_release_frees_it_for_the_next_run_and_only_the_holder_releases(self, store: Store) -> None:
        store.acquire_lease(lease("run-a"), now=100.0)
        assert not store.release_lease("writer", "run-b")
        assert store.release_lease("writer", "run-a")
        assert store.current_lease("writer") is None
        assert store.acquire_lease(lease("run-b"), now=101.0).holder == "run-b"

    def test_the_holder_acquiring_again_refreshes_its_own_lease(self, store: Store) -> None:
        store.acquire_lease(lease("run-a"), now=100.0)
        assert store.acquire_lease(lease("run-a", expires_at=300.0), now=150.0).expires_at == 300.0

    def test_a_lease_is_seen_through_another_connection(self, store: Store) -> None:
        other = store.reopen()
        try:
            store.acquire_lease(lease("run-a"), now=100.0)
            assert other.acquire_lease(lease("run-b"), now=150.0).holder == "run-a"
        finally:
            if other is not store:
                other.close()
