using System.Diagnostics;
using Btmc.Platform.EventLog;

namespace Btmc.Supply;

/// <summary>
/// The embedded default's sealing loop for one partition of the supply-events log: reads the partition in batches,
/// hands them to the chain's <see cref="Sealer"/>, and checkpoints. Once <see cref="SupplyOptions.SealMaxEvents"/>
/// events are waiting or the oldest has waited <see cref="SupplyOptions.SealMaxDelayMilliseconds"/>, it waits for the
/// chain's next slot (docs/dpos.md) and seals up to SealMaxEvents of what is there then; an empty slot makes no block. After a crash the consumer
/// resumes after the head block's log range (or the checkpoint, whichever is later).
/// </summary>
public sealed class LogSealer(Sealer sealer, IEventLog log, SupplyOptions options)
{
    public const string ConsumerGroup = "sealer";

    private long _next;
    private bool _positioned;

    public string ChainId => sealer.ChainId;

    public int Partition => sealer.Partition;

    /// <summary>The next log sequence number this sealer will consume.</summary>
    public long NextSequenceNumber => _next;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await RecoverAsync(cancellationToken).ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            await log.WaitForEventAsync(Partition, _next, cancellationToken).ConfigureAwait(false);
            await WaitForBatchAsync(cancellationToken).ConfigureAwait(false);
            // The batch is read once the chain's slot has begun: what arrives while it waits joins the block.
            await sealer.WaitForSlotAsync(cancellationToken).ConfigureAwait(false);
            await SealAvailableAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Finds the chain head, re-applies the head block's index, and positions the consumer after it.</summary>
    public async Task RecoverAsync(CancellationToken cancellationToken = default)
    {
        await sealer.RecoverAsync(cancellationToken).ConfigureAwait(false);
        var checkpoint = await log.GetCheckpointAsync(ConsumerGroup, Partition, cancellationToken).ConfigureAwait(false);
        _next = Math.Max(sealer.Head?.NextSequenceNumber ?? 0, checkpoint);
        _positioned = true;
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

            var delivered = batch.Select(e => new DeliveredEvent(e.SequenceNumber, EventRecord.Decode(e.Body))).ToList();
            var outcome = await sealer.SealAsync(delivered, cancellationToken).ConfigureAwait(false);
            // After losing a height to another sealer the head may be past this batch: continue after the head's range.
            _next = Math.Max(batch[^1].SequenceNumber + 1, sealer.Head?.NextSequenceNumber ?? 0);
            await log.SetCheckpointAsync(ConsumerGroup, Partition, _next, cancellationToken).ConfigureAwait(false);
            return outcome.Blocks.Count > 0 ? outcome.Blocks[^1] : null;
        }
        catch
        {
            _positioned = false;
            throw;
        }
    }

    private async Task WaitForBatchAsync(CancellationToken cancellationToken)
    {
        if (log.GetEndSequenceNumber(Partition) - _next >= options.SealMaxEvents)
        {
            return;
        }

        var first = await log.ReadAsync(Partition, _next, 1, cancellationToken).ConfigureAwait(false);
        var deadline = first[0].EnqueuedTime.AddMilliseconds(options.SealMaxDelayMilliseconds);
        var remaining = deadline - DateTimeOffset.UtcNow;
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
