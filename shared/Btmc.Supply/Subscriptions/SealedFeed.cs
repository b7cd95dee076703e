using System.Collections.Concurrent;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis.Query;
using Btmc.Ledger;
using Btmc.Supply.Access;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Subscriptions;

/// <summary>One batch of a subscription's new results: the events and the cursor just after the last entry looked at.</summary>
public sealed record FeedBatch(IReadOnlyList<ReadOnlyMemory<byte>> Events, SubscriptionCursor Next, bool CaughtUp);

/// <summary>
/// The sealed supply blocks as subscriptions read them. <see cref="PollAsync"/> notices new blocks on every chain (sealed
/// by this instance or another one: it reads the block rows, the commit), keeps the entries of the latest ones in memory
/// and wakes <see cref="WaitAsync"/>; so a thousand subscriptions that are up to date read each new block once between
/// them, and only one that lags reads older blocks from the table. Nothing here is on the capture or sealing path.
/// </summary>
public sealed class SealedFeed(SupplyOptions options, SupplyReader reader) : IDisposable
{
    /// <summary>Latest blocks per chain whose entries are kept in memory once read (a block holds up to
    /// Supply:SealMaxEvents entries, so few: memory stays bounded under full load).</summary>
    public const int CachedBlocks = 4;

    private readonly long[] _next = new long[options.Partitions];
    private readonly ConcurrentDictionary<(int Chain, long Height), SealedBlock> _cache = new();
    private readonly SemaphoreSlim _polling = new(1, 1);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _started;

    private sealed record SealedBlock(StoredBlock Block, IReadOnlyList<StoredEntry> Entries);

    /// <summary>Per chain, the first height not seen sealed yet (after the first poll: the heads + 1).</summary>
    public SubscriptionCursor Heads => new(_next.Select(h => (h, 0L)).ToList());

    /// <summary>Reads every chain's blocks sealed since the last poll; true when there were any.</summary>
    public async Task<bool> PollAsync(CancellationToken cancellationToken = default)
    {
        // One poll at a time (the dispatcher's and a new subscription's): two at once could each move a chain's next
        // height past the same block, and so past one that is not sealed yet.
        await _polling.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await PollOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _polling.Release();
        }
    }

    private async Task<bool> PollOnceAsync(CancellationToken cancellationToken)
    {
        var any = false;
        for (var chain = 0; chain < options.Partitions; chain++)
        {
            if (!_started)
            {
                // Start at the heads: what was sealed before is read from the table by whoever needs it.
                var head = await reader.Chain.FindHeadAsync(options.ChainId(chain), cancellationToken).ConfigureAwait(false);
                _next[chain] = head is null ? 0 : head.Height + 1;
                continue;
            }

            // Only the block row is read here (is there a block?); entries are read when a subscription collects them.
            while (await reader.Chain.GetBlockAsync(options.ChainId(chain), _next[chain], cancellationToken).ConfigureAwait(false) is not null)
            {
                _cache.TryRemove((chain, _next[chain] - CachedBlocks), out _);
                Volatile.Write(ref _next[chain], _next[chain] + 1);
                any = true;
            }
        }

        _started = true;
        if (any)
        {
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        return any;
    }

    /// <summary>Completes when a poll next finds new blocks.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => Volatile.Read(ref _changed).Task.WaitAsync(cancellationToken);

    /// <summary>True when some chain has a block at or past the cursor's position (there may be something new to report).</summary>
    public bool HasNew(SubscriptionCursor cursor) => cursor.Chains.Select((p, chain) => Volatile.Read(ref _next[chain]) > p.Height).Any(b => b);

    /// <summary>
    /// Collects up to <paramref name="max"/> events from <paramref name="cursor"/> on: sealed, recorded at or after
    /// <paramref name="initialRecordTime"/>, matching <paramref name="query"/> and visible to <paramref name="caller"/>
    /// (docs/partners.md), each ledger entry once, chain by chain in ledger order.
    /// </summary>
    public async Task<FeedBatch> CollectAsync(SubscriptionCursor cursor, EpcisQuery query, Caller caller, DateTimeOffset initialRecordTime, int max, CancellationToken cancellationToken = default)
    {
        var events = new List<ReadOnlyMemory<byte>>();
        var next = cursor.Chains.ToArray();
        var caughtUp = true;
        var bounded = query with { GeRecordTime = query.GeRecordTime is { } given && given > initialRecordTime ? given : initialRecordTime };
        for (var chain = 0; chain < next.Length; chain++)
        {
            var (height, leaf) = next[chain];
            while (true)
            {
                var block = await GetAsync(chain, height, cancellationToken).ConfigureAwait(false);
                if (block is null)
                {
                    break;
                }

                // Every entry of a block committed before the initial record time was recorded before it, too.
                if (block.Block.CommittedAt is { } committed && committed < initialRecordTime)
                {
                    (height, leaf) = (height + 1, 0);
                    continue;
                }

                for (; leaf < block.Entries.Count; leaf++)
                {
                    if (events.Count == max)
                    {
                        caughtUp = false;
                        break;
                    }

                    var entry = block.Entries[(int)leaf];
                    if (EventAccess.CanSee(caller, entry.Partner, entry.Event) && Matches(bounded, entry.Event))
                    {
                        events.Add(entry.Event);
                    }
                }

                if (!caughtUp)
                {
                    break;
                }

                (height, leaf) = (height + 1, 0);
            }

            next[chain] = (height, leaf);
            if (!caughtUp)
            {
                break;
            }
        }

        return new FeedBatch(events, new SubscriptionCursor(next), caughtUp);
    }

    private static bool Matches(EpcisQuery query, ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        return query.Matches(document.RootElement);
    }

    private async Task<SealedBlock?> GetAsync(int chain, long height, CancellationToken cancellationToken) =>
        _cache.TryGetValue((chain, height), out var cached) ? cached : await LoadAsync(chain, height, cancellationToken).ConfigureAwait(false);

    private async Task<SealedBlock?> LoadAsync(int chain, long height, CancellationToken cancellationToken)
    {
        var chainId = options.ChainId(chain);
        if (await reader.Chain.GetBlockAsync(chainId, height, cancellationToken).ConfigureAwait(false) is not { } block)
        {
            return null;
        }

        var entries = await reader.Chain.ReadEntriesAsync(chainId, height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
        var sealedBlock = new SealedBlock(block, entries);
        if (height >= Volatile.Read(ref _next[chain]) - CachedBlocks)
        {
            _cache[(chain, height)] = sealedBlock;
        }

        return sealedBlock;
    }

    public void Dispose() => _polling.Dispose();
}
