#!/usr/bin/env python3
"""Independent reference of the BTMC producer schedule (docs/dpos.md), standard library only.

Prints the seed and the 51 slots for the pinned inputs that tests/Btmc.Ledger.Tests/Dpos/ProducerScheduleTests.cs
checks, so a third party can confirm the specification and the C# code agree:  python3 docs/dpos-reference.py
"""
import hashlib
import struct

TAG = b"BTMC-DPOS-SEED-1"


def seed(domain: str, chain_id: str, round_: int, previous_signature: bytes) -> bytes:
    d, c = domain.encode(), chain_id.encode()
    pre = TAG + struct.pack(">H", len(d)) + d + struct.pack(">H", len(c)) + c
    pre += struct.pack(">Q", round_) + struct.pack(">H", len(previous_signature)) + previous_signature
    return hashlib.sha256(pre).digest()


class Draws:
    def __init__(self, seed_: bytes):
        self.seed, self.counter, self.values = seed_, 0, []

    def next(self) -> int:
        if not self.values:
            block = hashlib.sha256(self.seed + struct.pack(">Q", self.counter)).digest()
            self.counter += 1
            self.values = [struct.unpack(">Q", block[i:i + 8])[0] for i in range(0, 32, 8)]
        return self.values.pop(0)

    def uniform(self, n: int) -> int:
        excess = (2 ** 64) % n
        while True:
            v = self.next()
            if v < 2 ** 64 - excess:
                return v % n


def draw(candidates, seed_: bytes, slots_per_round: int = 51):
    """candidates: list of (producer_id, votes). Returns the producer id of each slot."""
    ranked = sorted(candidates, key=lambda c: (-c[1], c[0]))
    by_rank = max(1, slots_per_round - 1)
    elected = ranked[:by_rank]
    draws = Draws(seed_)
    standby = [c for c in ranked[by_rank:] if c[1] > 0]
    if standby and len(elected) < slots_per_round:
        target = draws.uniform(sum(c[1] for c in standby))
        cumulative = 0
        for c in standby:
            cumulative += c[1]
            if target < cumulative:
                elected.append(c)
                break
    for i in range(len(elected) - 1, 0, -1):
        j = draws.uniform(i + 1)
        elected[i], elected[j] = elected[j], elected[i]
    return [elected[s % len(elected)][0] for s in range(slots_per_round)]


if __name__ == "__main__":
    s = seed("btmc/pinned-deployment/governance", "supply-0", 7, bytes(range(64)))
    print("seed", s.hex())
    many = [(f"producer-{i:02d}", (i * 7919) % 1000) for i in range(60)]
    print("60 candidates:", " ".join(draw(many, s)))
    few = [("fab-a", 300), ("fab-b", 0), ("osat-c", 300)]
    print("3 candidates:", " ".join(draw(few, seed("btmc/pinned-deployment/governance", "governance", 0, b""))))
