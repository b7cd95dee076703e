using System.Globalization;
using Btmc.Chains;
using Btmc.Compute.Mining;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Tables;

namespace Btmc.Compute.Rewards;

/// <summary>
/// Closes reward epochs into the compute chain (docs/compute.md, "Rewards"): for each epoch in order, every
/// contributor's resource power from the evidence (accepted shares, verified job work), the pool split pro rata to
/// persistent power, and one block holding a payout record per contributor and the epoch record last. The chain is the
/// record of which epochs are closed: the head block's epoch record names the last one, so closing is idempotent and a
/// crash between epochs resumes where it stopped.
/// </summary>
public sealed class RewardLedger(ComputeTables tables, ChainStore store, BlockScheduler scheduler, ComputeOptions options, TimeProvider time)
{
    public const string ChainId = "compute";

    /// <summary>How long after an epoch ends it may be closed: events received before the end must be accounted by then.</summary>
    public TimeSpan CloseGrace => TimeSpan.FromSeconds(options.CloseGraceSeconds);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private ChainHead? _head;
    private ChainSchedule? _schedule;
    private long? _lastClosed;
    private bool _recovered;

    /// <summary>The last epoch closed; null before the first.</summary>
    public long? LastClosed => _lastClosed;

    /// <summary>
    /// Closes every epoch that has ended (plus the grace) and is not closed yet, in order; <paramref name="accounted"/>
    /// says whether every mining event received before a time has been accounted (the embedded accountants' positions).
    /// Returns the epochs it closed.
    /// </summary>
    public async Task<IReadOnlyList<EpochRecord>> CloseDueAsync(Func<DateTimeOffset, CancellationToken, Task<bool>>? accounted = null, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_recovered)
            {
                await RecoverAsync(cancellationToken).ConfigureAwait(false);
            }

            var now = time.GetUtcNow();
            var due = options.EpochOf(now - CloseGrace) - 1;
            var first = _lastClosed + 1 ?? await FirstEpochWithEvidenceAsync(due, cancellationToken).ConfigureAwait(false);
            var closed = new List<EpochRecord>();
            for (var epoch = first ?? due + 1; epoch <= due; epoch++)
            {
                if (accounted is not null && !await accounted(options.EpochStart(epoch + 1) + CloseGrace, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                closed.Add(await CloseAsync(epoch, cancellationToken).ConfigureAwait(false));
            }

            return closed;
        }
        catch
        {
            _recovered = false;
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Each contributor's resource power in <paramref name="epoch"/>, from the stored evidence.</summary>
    public async Task<IReadOnlyDictionary<string, (ResourcePower Power, PowerAccount Account, UInt128 TaskWork)>> PowerOfEpochAsync(long epoch, CancellationToken cancellationToken = default)
    {
        var buckets = options.EpochSeconds / options.BucketSeconds;
        var accounts = new Dictionary<string, PowerAccount>(StringComparer.Ordinal);
        await foreach (var row in tables.Power.QueryAllAsync(new TableQuery(null, ComputeTables.EpochKey(epoch), ComputeTables.EpochKey(epoch + 1)), cancellationToken).ConfigureAwait(false))
        {
            accounts[row.PartitionKey] = MiningAccountant.FromEntity(row, buckets);
        }

        var taskWork = new Dictionary<string, UInt128>(StringComparer.Ordinal);
        await foreach (var row in tables.TaskCredits.QueryAllAsync(new TableQuery(null, ComputeTables.EpochKey(epoch) + ":", ComputeTables.EpochKey(epoch) + ";"), cancellationToken).ConfigureAwait(false))
        {
            taskWork[row.PartitionKey] = taskWork.GetValueOrDefault(row.PartitionKey) + (UInt128)(ulong)row.GetInt64("Work");
            var account = accounts.TryGetValue(row.PartitionKey, out var known) ? known : accounts[row.PartitionKey] = new PowerAccount(buckets);
            if (row.Properties.TryGetValue("VerifiedAt", out var at) && at is DateTimeOffset verifiedAt)
            {
                // Verified work proves the contributor was online when it was verified.
                var bucket = (int)Math.Clamp((verifiedAt - options.EpochStart(epoch)).TotalSeconds / options.BucketSeconds, 0, buckets - 1);
                account.ShareBuckets[bucket] = true;
            }
        }

        var result = new Dictionary<string, (ResourcePower, PowerAccount, UInt128)>(StringComparer.Ordinal);
        foreach (var (contributor, account) in accounts)
        {
            var work = account.ShareWork + taskWork.GetValueOrDefault(contributor);
            var streak = work == UInt128.Zero ? 0 : await StreakAsync(contributor, epoch, cancellationToken).ConfigureAwait(false);
            result[contributor] = (new ResourcePower(work, account.OnlineBuckets(options.HeartbeatBridgeBuckets), options.BucketSeconds, streak), account, taskWork.GetValueOrDefault(contributor));
        }

        return result;
    }

    /// <summary>The epoch's block: where its records are.</summary>
    public async Task<StoredBlock?> FindEpochBlockAsync(long epoch, CancellationToken cancellationToken = default)
    {
        var row = await tables.Settings.GetEntityIfExistsAsync("epochs", ComputeTables.EpochKey(epoch), cancellationToken).ConfigureAwait(false);
        return row is null ? null : await store.Reader.GetBlockAsync(ChainId, row.GetInt64("Height"), cancellationToken).ConfigureAwait(false);
    }

    private async Task<EpochRecord> CloseAsync(long epoch, CancellationToken cancellationToken)
    {
        var powers = await PowerOfEpochAsync(epoch, cancellationToken).ConfigureAwait(false);
        var payouts = RewardSplit.Split(options.RewardPool, powers.ToDictionary(p => p.Key, p => p.Value.Power.Weight, StringComparer.Ordinal));
        var records = new List<RewardRecord>();
        foreach (var (contributor, (power, account, taskWork)) in powers.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            records.Add(new PayoutRecord(
                epoch, contributor, power.Work.ToString(CultureInfo.InvariantCulture), account.ShareWork.ToString(CultureInfo.InvariantCulture), taskWork.ToString(CultureInfo.InvariantCulture),
                power.OnlineBuckets, power.BucketSeconds, power.ConsecutiveEpochs, power.HashRate, power.OnlineHours, power.Dpp, power.Persistence, power.Pp,
                power.Weight.ToString(CultureInfo.InvariantCulture), account.Accepted, account.Duplicates, account.Stale, account.Invalid, payouts[contributor]));
        }

        var total = powers.Values.Aggregate(UInt128.Zero, (sum, p) => sum + p.Power.Weight);
        var summary = new EpochRecord(epoch, options.EpochStart(epoch), options.EpochStart(epoch + 1), options.RewardPool, powers.Count, total.ToString(CultureInfo.InvariantCulture), payouts.Values.Sum());
        records.Add(summary);
        var rows = records.Select(r =>
        {
            var json = r.ToJson();
            return new EntryRow(r.RecordId, Hash32.Compute(json), json, "compute", r.Actor, time.GetUtcNow(), 0);
        }).ToList();

        while (true)
        {
            var turn = await scheduler.WaitForTurnAsync(_schedule!, cancellationToken).ConfigureAwait(false);
            var committed = await store.AppendAsync(ChainId, _head, turn, rows, cancellationToken).ConfigureAwait(false);
            if (committed is not null)
            {
                _schedule!.Follow(turn.Slot, committed.Signature);
                _head = new ChainHead(ChainId, committed.Header.Height, committed.BlockHash, committed.Header.LeafCount, 0, (_head?.TotalEntries ?? 0) + committed.Header.LeafCount);
                await store.WriteHeadHintAsync(_head, cancellationToken).ConfigureAwait(false);
                await IndexEpochAsync(epoch, committed.Header.Height, cancellationToken).ConfigureAwait(false);
                _lastClosed = epoch;
                return summary;
            }

            // Another instance sealed first: if it closed this epoch, take its block; else try again after it.
            await RecoverAsync(cancellationToken).ConfigureAwait(false);
            if (_lastClosed >= epoch)
            {
                throw new InvalidOperationException($"Epoch {epoch} was closed by another instance meanwhile.");
            }
        }
    }

    /// <summary>Reads the chain head and the last closed epoch from its epoch record.</summary>
    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        _head = await store.Reader.FindHeadAsync(ChainId, cancellationToken).ConfigureAwait(false);
        _schedule = await store.FollowAsync(scheduler.Rules, ChainId, _head, cancellationToken).ConfigureAwait(false);
        _lastClosed = null;
        if (_head is not null)
        {
            var entries = await store.Reader.ReadEntriesAsync(ChainId, _head.Height, _head.BlockHash, _head.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
            if (entries.Count > 0 && RewardRecord.FromJson(entries[^1].Event.Span) is EpochRecord last)
            {
                _lastClosed = last.Epoch;
                await IndexEpochAsync(last.Epoch, _head.Height, cancellationToken).ConfigureAwait(false);
            }
        }

        _recovered = true;
    }

    private Task IndexEpochAsync(long epoch, long height, CancellationToken cancellationToken) =>
        tables.Settings.UpsertEntityAsync(new TableEntity("epochs", ComputeTables.EpochKey(epoch), new Dictionary<string, object> { ["Height"] = height }), TableUpdateMode.Replace, cancellationToken);

    /// <summary>Consecutive epochs with work, ending at <paramref name="epoch"/> (at most 11 are looked at).</summary>
    private async Task<int> StreakAsync(string contributor, long epoch, CancellationToken cancellationToken)
    {
        var worked = new HashSet<long>();
        var from = Math.Max(0, epoch - ResourcePower.MaxPersistenceSteps);
        await foreach (var row in tables.Power.QueryAllAsync(new TableQuery(contributor, ComputeTables.EpochKey(from), ComputeTables.EpochKey(epoch)), cancellationToken).ConfigureAwait(false))
        {
            if (row.GetString("ShareWork") != "0")
            {
                worked.Add(long.Parse(row.RowKey, CultureInfo.InvariantCulture));
            }
        }

        var streak = 1;
        while (worked.Contains(epoch - streak))
        {
            streak++;
        }

        return streak;
    }

    /// <summary>The earliest epoch up to <paramref name="due"/> with any evidence; null when there is none.</summary>
    private async Task<long?> FirstEpochWithEvidenceAsync(long due, CancellationToken cancellationToken)
    {
        long? first = null;
        foreach (var table in new[] { tables.Power, tables.TaskCredits })
        {
            await foreach (var row in table.QueryAllAsync(new TableQuery(null, null, ComputeTables.EpochKey(due + 1)), cancellationToken).ConfigureAwait(false))
            {
                var epoch = long.Parse(row.RowKey[..10], CultureInfo.InvariantCulture);
                first = first is { } known ? Math.Min(known, epoch) : epoch;
            }
        }

        return first;
    }
}
