using Btmc.Chains;
using Btmc.Compute.Mining;
using Btmc.Compute.Rewards;
using Btmc.Platform.EventHubs;
using Btmc.Platform.EventLog;
using Btmc.Platform.Tables;

namespace Btmc.Compute;

/// <summary>
/// Compute sharing assembled over its ports (docs/compute.md): the contributor registry, mining jobs and submissions,
/// the accountant(s), and the reward ledger that closes epochs into the compute chain. Two shapes: the embedded mining
/// log with one accounting loop per partition in this process, or the Event Hubs hub <c>mining-events</c> whose trigger
/// hands batches to <see cref="Accountant"/>.
/// </summary>
public sealed class ComputeBackend
{
    /// <summary>The embedded default: submissions on the local mining log, accounted in this process.</summary>
    public ComputeBackend(ComputeOptions options, ITableServiceClient tableService, ChainStore store, BlockScheduler scheduler, IEventLog log, string tablePrefix = "", TimeProvider? time = null)
        : this(options, tableService, store, scheduler, new MiningLogPublisher(log), log, tablePrefix, time)
    {
    }

    /// <summary>Azure: submissions published to the mining-events hub, accounted by its trigger.</summary>
    public ComputeBackend(ComputeOptions options, ITableServiceClient tableService, ChainStore store, BlockScheduler scheduler, IEventHubSender miningEvents, string tablePrefix = "", TimeProvider? time = null)
        : this(options, tableService, store, scheduler, new MiningHubPublisher(miningEvents), null, tablePrefix, time)
    {
    }

    private ComputeBackend(ComputeOptions options, ITableServiceClient tableService, ChainStore store, BlockScheduler scheduler, IMiningEventPublisher publisher, IEventLog? log, string tablePrefix, TimeProvider? time)
    {
        options.Validate();
        if (log is not null && log.PartitionCount != options.Partitions)
        {
            throw new ArgumentException($"The mining log has {log.PartitionCount} partitions but Compute:Partitions is {options.Partitions}.", nameof(log));
        }

        time ??= TimeProvider.System;
        Time = time;
        Options = options;
        Log = log;
        Tables = new ComputeTables(tableService, tablePrefix);
        Store = store;
        Contributors = new Contributors(Tables);
        Mining = new MiningService(Tables, Contributors, options, publisher, time);
        Accountant = new MiningAccountant(Tables, Contributors, options, Mining.JobSecretAsync, time);
        Accountants = log is null ? [] : Enumerable.Range(0, options.Partitions).Select(p => new MiningLogAccountant(Accountant, log, p)).ToList();
        Rewards = new RewardLedger(Tables, store, scheduler, options, time);
    }

    public ComputeOptions Options { get; }

    /// <summary>The clock mining, accounting and rewards read.</summary>
    public TimeProvider Time { get; }

    /// <summary>The embedded mining log; null on Event Hubs.</summary>
    public IEventLog? Log { get; }

    public ComputeTables Tables { get; }

    public ChainStore Store { get; }

    public Contributors Contributors { get; }

    public MiningService Mining { get; }

    public MiningAccountant Accountant { get; }

    /// <summary>The embedded log's accounting loops; empty on Event Hubs.</summary>
    public IReadOnlyList<MiningLogAccountant> Accountants { get; }

    public RewardLedger Rewards { get; }

    public Task StartAsync(CancellationToken cancellationToken = default) => Tables.CreateIfNotExistsAsync(cancellationToken);

    /// <summary>Closes the epochs that are due; on the embedded log, only once every partition has accounted what arrived before the epoch ended.</summary>
    public Task<IReadOnlyList<EpochRecord>> CloseDueEpochsAsync(CancellationToken cancellationToken = default) =>
        Rewards.CloseDueAsync(Log is null ? null : AccountedBeforeAsync, cancellationToken);

    private async Task<bool> AccountedBeforeAsync(DateTimeOffset time, CancellationToken cancellationToken)
    {
        foreach (var accountant in Accountants)
        {
            if (!await accountant.HasAccountedBeforeAsync(time, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }
}
