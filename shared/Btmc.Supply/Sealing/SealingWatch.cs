namespace Btmc.Supply.Sealing;

/// <summary>
/// One chain's sealing as seen now: how many events of its log partition wait, since when the oldest has waited, what
/// its sealer is doing, and whether that is late or stalled (<see cref="SealingWatch"/>).
/// </summary>
public sealed record ChainSealing(string ChainId, long Unsealed, TimeSpan? OldestUnsealedAge, SealerStatus Sealer, bool Late, bool Stalled, string? Reason);

/// <summary>
/// Liveness of the embedded log's sealers (docs/architecture.md, "Liveness"): an accepted event must be sealed within
/// a few slots, so the watch calls a chain <b>late</b> when its oldest unsealed event has waited longer than
/// <see cref="LateAfter"/> (three slots: a batch's gathering delay, the slot it waits for, and one slot to spare) and
/// <b>stalled</b> when events wait and its sealer has not moved for <see cref="StalledAfter"/> (ten slots), and says why
/// in words. The server logs both, the chains view and the capture status show them.
/// </summary>
public sealed class SealingWatch(SupplyBackend backend, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? backend.Time;

    public TimeSpan LateAfter => TimeSpan.FromMilliseconds(3L * backend.Scheduler.Rules.Clock.SlotMilliseconds);

    public TimeSpan StalledAfter => TimeSpan.FromMilliseconds(10L * backend.Scheduler.Rules.Clock.SlotMilliseconds);

    /// <summary>Every chain of the embedded log; empty on Event Hubs (the trigger seals, on whichever instance).</summary>
    public async Task<IReadOnlyList<ChainSealing>> InspectAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var chains = new List<ChainSealing>(backend.Sealers.Count);
        foreach (var sealer in backend.Sealers)
        {
            chains.Add(await InspectAsync(sealer, now, cancellationToken).ConfigureAwait(false));
        }

        return chains;
    }

    private async Task<ChainSealing> InspectAsync(LogSealer sealer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var status = sealer.Status;
        if (!backend.IsSealingOwner)
        {
            return new ChainSealing(sealer.ChainId, 0, null, status with { State = SealerStates.NotOwner }, false, false, backend.Capture.NotSealingReason);
        }

        var (unsealed, oldest) = await sealer.GetBacklogAsync(cancellationToken).ConfigureAwait(false);
        var age = oldest is { } enqueued ? now - enqueued : (TimeSpan?)null;
        var late = age > LateAfter;
        var stalled = unsealed > 0 && now - status.LastProgressAt > StalledAfter && now - (oldest ?? now) > StalledAfter;
        return new ChainSealing(sealer.ChainId, unsealed, age, status, late, stalled, late || stalled ? Explain(status) : null);
    }

    /// <summary>Why a sealer in this state is not sealing, for people.</summary>
    private string Explain(SealerStatus status) => status.State switch
    {
        SealerStates.Failed => $"sealing failed at {status.LastErrorAt:O} and restarts from the chain head: {status.LastError}",
        SealerStates.WaitingForSlot => $"waiting since {status.Since:O} for a slot whose producer key this server holds " +
            $"({backend.Scheduler.Keys.Keys.Count} key(s): {string.Join(", ", backend.Scheduler.Keys.Keys.Select(k => k.KeyId))}); " +
            "if none of the schedule's producers is among them, this server cannot seal (docs/dpos.md)" + LastError(status),
        SealerStates.Sealing => $"writing a block since {status.Since:O} (the table store may be slow or retrying)" + LastError(status),
        _ => $"{status.State} since {status.Since:O}" + LastError(status),
    };

    private static string LastError(SealerStatus status) => status.LastError is { } error ? $"; last error at {status.LastErrorAt:O}: {error}" : string.Empty;
}
