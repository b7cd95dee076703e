using Btmc.Platform.EventLog;

namespace Btmc.Compute.Mining;

/// <summary>
/// The embedded default's accounting loop for one partition of the mining log: reads events in batches, accounts them
/// and checkpoints. After a crash it resumes from the checkpoint; power rows skip what they already include.
/// </summary>
public sealed class MiningLogAccountant(MiningAccountant accountant, IEventLog log, int partition)
{
    public const string ConsumerGroup = "accountant";

    private long _next = -1;

    public int Partition => partition;

    /// <summary>The next sequence number to account (after <see cref="AccountAvailableAsync"/> or the loop has started).</summary>
    public long NextSequenceNumber => _next;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await EnsurePositionedAsync(cancellationToken).ConfigureAwait(false);
            await log.WaitForEventAsync(partition, _next, cancellationToken).ConfigureAwait(false);
            await AccountAvailableAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Accounts what is in the partition now (up to 1000 events); returns how many events it read.</summary>
    public async Task<int> AccountAvailableAsync(CancellationToken cancellationToken = default)
    {
        await EnsurePositionedAsync(cancellationToken).ConfigureAwait(false);
        var batch = await log.ReadAsync(partition, _next, 1000, cancellationToken).ConfigureAwait(false);
        if (batch.Count == 0)
        {
            return 0;
        }

        await accountant.AccountAsync(batch.Select(e => new DeliveredMiningEvent(e.SequenceNumber, e.Body)).ToList(), cancellationToken).ConfigureAwait(false);
        _next = batch[^1].SequenceNumber + 1;
        await log.SetCheckpointAsync(ConsumerGroup, partition, _next, cancellationToken).ConfigureAwait(false);
        return batch.Count;
    }

    /// <summary>Whether everything the partition held before <paramref name="time"/> has been accounted.</summary>
    public async Task<bool> HasAccountedBeforeAsync(DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        await EnsurePositionedAsync(cancellationToken).ConfigureAwait(false);
        var next = await log.ReadAsync(partition, _next, 1, cancellationToken).ConfigureAwait(false);
        return next.Count == 0 || next[0].EnqueuedTime >= time;
    }

    private async Task EnsurePositionedAsync(CancellationToken cancellationToken)
    {
        if (_next < 0)
        {
            _next = await log.GetCheckpointAsync(ConsumerGroup, partition, cancellationToken).ConfigureAwait(false);
        }
    }
}
