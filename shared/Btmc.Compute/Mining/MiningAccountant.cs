using System.Globalization;
using Btmc.Platform.Tables;

namespace Btmc.Compute.Mining;

/// <summary>A mining event as delivered to the accountant: its position on its partition and its body.</summary>
public sealed record DeliveredMiningEvent(long SequenceNumber, ReadOnlyMemory<byte> Body);

/// <summary>What an accounting run did: shares accepted and rejected, events skipped as already accounted or unreadable.</summary>
public sealed record AccountingOutcome(long Accepted, long Duplicates, long Stale, long Invalid, int Replayed, int Unreadable);

/// <summary>
/// Turns mining events into evidence (docs/compute.md, "Accounting"): per contributor and epoch, the accepted shares'
/// work and the online buckets, and the duplicate, stale and invalid shares. A contributor's events all travel on one
/// partition, in order; each power row records the partition position it includes (<c>LogTo</c>), so a batch delivered
/// again is skipped, and an accepted share's row records the event that accepted it, so a replay after a crash counts
/// it once. One accountant per partition at a time (the embedded loop, or the Event Hubs trigger's lease).
/// </summary>
public sealed class MiningAccountant(ComputeTables tables, Contributors contributors, ComputeOptions options, Func<CancellationToken, Task<byte[]>> jobSecret, TimeProvider? time = null)
{
    private readonly Dictionary<string, Dictionary<ulong, long>> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _seenUntil = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<AccountingOutcome> AccountAsync(IReadOnlyList<DeliveredMiningEvent> events, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await AccountHeldAsync(events, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<AccountingOutcome> AccountHeldAsync(IReadOnlyList<DeliveredMiningEvent> events, CancellationToken cancellationToken)
    {
        var secret = await jobSecret(cancellationToken).ConfigureAwait(false);
        var rows = new Dictionary<(string Contributor, long Epoch), (PowerAccount Account, long LogTo)>();
        var shareWrites = new Dictionary<string, List<TableTransactionAction>>(StringComparer.Ordinal);
        long accepted = 0, duplicates = 0, stale = 0, invalid = 0;
        int replayed = 0, unreadable = 0;
        foreach (var delivered in events)
        {
            MiningEvent evt;
            try
            {
                evt = MiningEvent.FromJson(delivered.Body.Span);
            }
            catch (FormatException)
            {
                unreadable++;
                continue;
            }

            var submission = evt.Submission;
            var receivedAt = DateTimeOffset.FromUnixTimeMilliseconds(evt.ReceivedAt);
            if (await contributors.FindAsync(submission.Contributor, cancellationToken).ConfigureAwait(false) is not { } contributor || !submission.IsSignedBy(contributor.PublicKey))
            {
                // The endpoint checks both before publishing; a body that fails here was not written by it.
                unreadable++;
                continue;
            }

            var epoch = options.EpochOf(receivedAt);
            var key = (submission.Contributor, epoch);
            if (!rows.TryGetValue(key, out var row))
            {
                row = await LoadAsync(submission.Contributor, epoch, cancellationToken).ConfigureAwait(false);
            }

            if (delivered.SequenceNumber < row.LogTo)
            {
                replayed++;
                continue;
            }

            var bucket = (int)((receivedAt - options.EpochStart(epoch)).TotalSeconds / options.BucketSeconds);
            var inThisEvent = new HashSet<(string JobKey, ulong Nonce)>();
            foreach (var job in submission.Jobs)
            {
                MiningJobHeader header;
                try
                {
                    header = MiningJobHeader.Verify(secret, submission.Contributor, Convert.FromHexString(job.Header));
                }
                catch (FormatException)
                {
                    row.Account.Invalid += job.Nonces.Count;
                    invalid += job.Nonces.Count;
                    continue;
                }

                if (receivedAt > header.Issued.AddSeconds(options.JobLifetimeSeconds) || header.Issued > receivedAt.AddSeconds(60))
                {
                    row.Account.Stale += job.Nonces.Count;
                    stale += job.Nonces.Count;
                    continue;
                }

                var seen = await SeenAsync(submission.Contributor, header, cancellationToken).ConfigureAwait(false);
                var jobKey = header.JobKey;
                var partition = SharesPartition(submission.Contributor, jobKey);
                foreach (var nonce in job.Nonces)
                {
                    // Seen before, from another event: a duplicate. Seen from this very event: a replay after a crash,
                    // whose power row was not written: accepted again, once.
                    if (!inThisEvent.Add((jobKey, nonce)) || (seen.TryGetValue(nonce, out var by) && by != delivered.SequenceNumber))
                    {
                        row.Account.Duplicates++;
                        duplicates++;
                    }
                    else if (!ShareHash.Meets(header.Bytes, nonce, header.DifficultyBits))
                    {
                        row.Account.Invalid++;
                        invalid++;
                    }
                    else
                    {
                        seen[nonce] = delivered.SequenceNumber;
                        row.Account.Accepted++;
                        row.Account.ShareWork += header.ShareWork;
                        row.Account.ShareBuckets[bucket] = true;
                        accepted++;
                        if (!shareWrites.TryGetValue(partition, out var writes))
                        {
                            shareWrites[partition] = writes = [];
                        }

                        writes.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, nonce.ToString("x16", CultureInfo.InvariantCulture), new Dictionary<string, object>
                        {
                            ["Seq"] = delivered.SequenceNumber,
                            ["Expires"] = header.Issued.AddSeconds(options.JobLifetimeSeconds),
                        })));
                    }
                }
            }

            if (submission.Heartbeat)
            {
                row.Account.HeartbeatBuckets[bucket] = true;
            }

            rows[key] = (row.Account, delivered.SequenceNumber + 1);
        }

        // Accepted shares first (they name the event that accepted them), then the power rows (which name how far
        // they include the partition): a crash between the two replays the events, and counts each share once.
        foreach (var (_, writes) in shareWrites)
        {
            await TableTransactions.SubmitAsync(tables.Shares, writes, cancellationToken).ConfigureAwait(false);
        }

        foreach (var ((contributor, epoch), (account, logTo)) in rows)
        {
            await tables.Power.UpsertEntityAsync(ToEntity(contributor, epoch, account, logTo), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }

        ForgetExpiredJobs();
        return new AccountingOutcome(accepted, duplicates, stale, invalid, replayed, unreadable);
    }

    /// <summary>A contributor's account of one epoch as stored (a new one when there is none).</summary>
    public async Task<(PowerAccount Account, long LogTo)> LoadAsync(string contributor, long epoch, CancellationToken cancellationToken = default)
    {
        var buckets = options.EpochSeconds / options.BucketSeconds;
        var row = await tables.Power.GetEntityIfExistsAsync(contributor, ComputeTables.EpochKey(epoch), cancellationToken).ConfigureAwait(false);
        return row is null ? (new PowerAccount(buckets), 0) : (FromEntity(row, buckets), row.GetInt64("LogTo"));
    }

    public static PowerAccount FromEntity(TableEntity row, int buckets) => new(buckets)
    {
        Accepted = row.GetInt64("Accepted"),
        Duplicates = row.GetInt64("Duplicates"),
        Stale = row.GetInt64("Stale"),
        Invalid = row.GetInt64("Invalid"),
        ShareWork = UInt128.Parse(row.GetString("ShareWork"), CultureInfo.InvariantCulture),
        ShareBuckets = PowerAccount.FromBytes(row.GetBinary("ShareBuckets"), buckets),
        HeartbeatBuckets = PowerAccount.FromBytes(row.GetBinary("HeartbeatBuckets"), buckets),
    };

    private static TableEntity ToEntity(string contributor, long epoch, PowerAccount account, long logTo) =>
        new(contributor, ComputeTables.EpochKey(epoch), new Dictionary<string, object>
        {
            ["Accepted"] = account.Accepted,
            ["Duplicates"] = account.Duplicates,
            ["Stale"] = account.Stale,
            ["Invalid"] = account.Invalid,
            ["ShareWork"] = account.ShareWork.ToString(CultureInfo.InvariantCulture),
            ["ShareBuckets"] = PowerAccount.ToBytes(account.ShareBuckets),
            ["HeartbeatBuckets"] = PowerAccount.ToBytes(account.HeartbeatBuckets),
            ["LogTo"] = logTo,
        });

    private static string SharesPartition(string contributor, string jobKey) => $"{contributor}:{jobKey}";

    /// <summary>The nonces accepted for a job so far, with the event that accepted each (read from the table once per job).</summary>
    private async Task<Dictionary<ulong, long>> SeenAsync(string contributor, MiningJobHeader header, CancellationToken cancellationToken)
    {
        var partition = SharesPartition(contributor, header.JobKey);
        if (_seen.TryGetValue(partition, out var seen))
        {
            return seen;
        }

        seen = [];
        await foreach (var row in tables.Shares.QueryAllAsync(new TableQuery(partition), cancellationToken).ConfigureAwait(false))
        {
            seen[ulong.Parse(row.RowKey, NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = row.GetInt64("Seq");
        }

        _seen[partition] = seen;
        _seenUntil[partition] = header.Issued.AddSeconds(options.JobLifetimeSeconds + 60);
        return seen;
    }

    private void ForgetExpiredJobs()
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        foreach (var partition in _seenUntil.Where(p => p.Value < now).Select(p => p.Key).ToList())
        {
            _seen.Remove(partition);
            _seenUntil.Remove(partition);
        }
    }

}
