using System.Diagnostics;
using Btmc.Platform.EventLog;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Sealing;

/// <summary>What a chain's sealing loop is doing, since when, and its last fault (docs/architecture.md, "Liveness").</summary>
/// <param name="State">One of the <see cref="SealerStates"/>.</param>
/// <param name="Since">When it entered that state.</param>
/// <param name="LastProgressAt">When it last moved: a block committed, or its log position advanced.</param>
/// <param name="LastError">The last fault's message, until a block is sealed after it; null when none.</param>
/// <param name="LastErrorAt">When that fault happened.</param>
public sealed record SealerStatus(string State, DateTimeOffset Since, DateTimeOffset LastProgressAt, string? LastError, DateTimeOffset? LastErrorAt);

/// <summary>The states of <see cref="SealerStatus.State"/>.</summary>
public static class SealerStates
{
    /// <summary>Finding the chain head and where to read the log from.</summary>
    public const string Recovering = "recovering";

    /// <summary>Everything in the log is sealed; waiting for the next event.</summary>
    public const string Idle = "idle";

    /// <summary>Events wait; gathering a batch (until SealMaxEvents are there or the oldest has waited SealMaxDelayMilliseconds).</summary>
    public const string Gathering = "gathering";

    /// <summary>Waiting for the chain's next slot whose producer key this process holds.</summary>
    public const string WaitingForSlot = "waiting-for-slot";

    /// <summary>Writing a block.</summary>
    public const string Sealing = "sealing";

    /// <summary>The last attempt failed (see the error); the loop starts again from the chain head after a pause.</summary>
    public const string Failed = "failed";

    /// <summary>This server does not seal this ledger: another server's event log does (docs/architecture.md, "One sealing log").</summary>
    public const string NotOwner = "not-owner";
}

/// <summary>
/// The embedded default's sealing loop for one partition of the supply-events log: reads the partition in batches,
/// hands them to the chain's <see cref="Sealer"/>. Once <see cref="SupplyOptions.SealMaxEvents"/> events are waiting or
/// the oldest has waited <see cref="SupplyOptions.SealMaxDelayMilliseconds"/>, it waits for the chain's next slot
/// (docs/dpos.md) and seals up to SealMaxEvents of what is there then; an empty slot makes no block.
/// </summary>
/// <remarks>
/// Where reading resumes (<see cref="RecoverAsync"/>) is taken from the chain itself, never from a stored consumer
/// position: the head block row records the log range it consumed and the id of the log it was read from. A consumer
/// checkpoint or a head hint can disagree with what is sealed (a crash between two writes, a restored backup, a second
/// server's blocks, a hand edit), and a position past an unsealed event skips it silently, which is the one failure
/// this loop must never have. Reading too early costs only lookups: every event is checked against the event index
/// before it is sealed, so nothing is sealed twice. Hence: the head's log range when the head block was read from this
/// log, clamped to the log's end (a log restored from an older copy than the tables restarts at its end, where new
/// events go); otherwise the log's start.
/// </remarks>
public sealed class LogSealer(Sealer sealer, IEventLog log, SupplyOptions options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _next;
    private bool _positioned;
    private bool _recovered;
    private SealerStatus _status = NewStatus(time ?? TimeProvider.System);

    public string ChainId => sealer.ChainId;

    public int Partition => sealer.Partition;

    /// <summary>The next log sequence number this sealer will consume.</summary>
    public long NextSequenceNumber => Volatile.Read(ref _next);

    /// <summary>What the loop is doing now.</summary>
    public SealerStatus Status => Volatile.Read(ref _status);

    /// <summary>Why the last recovery started where it did, when that was not the head's log range (a warning for the log); else null.</summary>
    public string? PositionWarning { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await RecoverAsync(cancellationToken).ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            SetState(SealerStates.Idle);
            await log.WaitForEventAsync(Partition, _next, cancellationToken).ConfigureAwait(false);
            SetState(SealerStates.Gathering);
            await WaitForBatchAsync(cancellationToken).ConfigureAwait(false);
            // The batch is read once the chain's slot has begun: what arrives while it waits joins the block.
            SetState(SealerStates.WaitingForSlot);
            await sealer.WaitForSlotAsync(cancellationToken).ConfigureAwait(false);
            await SealAvailableAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Finds the chain head, re-applies the head block's index, and positions the consumer after it (see remarks).</summary>
    public async Task RecoverAsync(CancellationToken cancellationToken = default)
    {
        SetState(SealerStates.Recovering);
        await sealer.RecoverAsync(cancellationToken).ConfigureAwait(false);
        var head = sealer.Head;
        var end = log.GetEndSequenceNumber(Partition);
        PositionWarning = null;
        long position;
        if (head is null)
        {
            position = 0;
        }
        else if (!string.Equals(head.LogId, log.LogId, StringComparison.Ordinal))
        {
            position = 0;
            PositionWarning = $"The head of {ChainId} (block {head.Height}) was sealed from the event log '{head.LogId ?? "(none recorded)"}', not from this one ('{log.LogId}'): " +
                $"reading partition {Partition} from its start ({end} events), each event checked against the event index.";
        }
        else if (head.NextSequenceNumber > end)
        {
            position = end;
            PositionWarning = $"The head of {ChainId} (block {head.Height}) consumed partition {Partition} up to sequence {head.NextSequenceNumber}, but the log ends at {end}: " +
                "the log is older than the tables (restored from another copy?). Events from its end on are sealed; sealed events the log lost are still in the ledger.";
        }
        else
        {
            position = head.NextSequenceNumber;
        }

        var moved = position != _next || !_recovered;
        Volatile.Write(ref _next, position);
        _positioned = true;
        _recovered = true;
        if (moved)
        {
            // A recovery that lands where the last one did is no progress: a sealer failing the same way after each
            // restart must show as stalled.
            Progressed();
        }
    }

    /// <summary>
    /// Seals whatever is in the log now, one block of at most SealMaxEvents; null when nothing new was pending.
    /// After a fault the next call starts again from the stored chain head.
    /// </summary>
    public async Task<BlockSealed?> SealAvailableAsync(CancellationToken cancellationToken = default)
    {
        if (!_positioned)
        {
            await RecoverAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var batch = await log.ReadAsync(Partition, _next, options.SealMaxEvents, cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                return null;
            }

            SetState(SealerStates.Sealing);
            var delivered = batch.Select(e => new DeliveredEvent(e.SequenceNumber, EventRecord.Decode(e.Body))).ToList();
            var outcome = await sealer.SealAsync(delivered, cancellationToken).ConfigureAwait(false);
            // After losing a height to another sealer of this log the head may be past this batch: continue after the
            // head's range (only a range of this log says anything about this log's positions).
            var next = batch[^1].SequenceNumber + 1;
            if (sealer.Head is { } head && string.Equals(head.LogId, log.LogId, StringComparison.Ordinal) && head.NextSequenceNumber > next)
            {
                next = Math.Min(head.NextSequenceNumber, log.GetEndSequenceNumber(Partition));
            }

            Volatile.Write(ref _next, next);
            Progressed(sealedBlock: outcome.Blocks.Count > 0);
            return outcome.Blocks.Count > 0 ? outcome.Blocks[^1] : null;
        }
        catch
        {
            _positioned = false;
            throw;
        }
    }

    /// <summary>How many events of the partition wait to be read, and when the oldest was appended (null when none).</summary>
    public async Task<(long Unsealed, DateTimeOffset? OldestEnqueuedTime)> GetBacklogAsync(CancellationToken cancellationToken = default)
    {
        var next = NextSequenceNumber;
        var unsealed = log.GetEndSequenceNumber(Partition) - next;
        if (unsealed <= 0)
        {
            return (0, null);
        }

        var oldest = await log.ReadAsync(Partition, next, 1, cancellationToken).ConfigureAwait(false);
        return (unsealed, oldest.Count > 0 ? oldest[0].EnqueuedTime : null);
    }

    /// <summary>Records a fault of the loop (the caller restarts it from the chain head).</summary>
    public void Failed(Exception fault)
    {
        var now = _time.GetUtcNow();
        var current = Status;
        Volatile.Write(ref _status, current with { State = SealerStates.Failed, Since = now, LastError = fault.GetBaseException().Message, LastErrorAt = now });
    }

    private static SealerStatus NewStatus(TimeProvider time)
    {
        var now = time.GetUtcNow();
        return new SealerStatus(SealerStates.Recovering, now, now, null, null);
    }

    private void SetState(string state)
    {
        var current = Status;
        if (current.State != state)
        {
            Volatile.Write(ref _status, current with { State = state, Since = _time.GetUtcNow() });
        }
    }

    private void Progressed(bool sealedBlock = false)
    {
        var current = Status;
        Volatile.Write(ref _status, current with
        {
            LastProgressAt = _time.GetUtcNow(),
            LastError = sealedBlock ? null : current.LastError,
            LastErrorAt = sealedBlock ? null : current.LastErrorAt,
        });
    }

    private async Task WaitForBatchAsync(CancellationToken cancellationToken)
    {
        if (log.GetEndSequenceNumber(Partition) - _next >= options.SealMaxEvents)
        {
            return;
        }

        var first = await log.ReadAsync(Partition, _next, 1, cancellationToken).ConfigureAwait(false);
        var deadline = first[0].EnqueuedTime.AddMilliseconds(options.SealMaxDelayMilliseconds);
        var remaining = deadline - _time.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(remaining);
        try
        {
            await log.WaitForEventAsync(Partition, _next + options.SealMaxEvents - 1, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Debug.Assert(timeout.IsCancellationRequested, "the batch deadline passed");
        }
    }
}
