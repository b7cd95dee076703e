using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;

namespace Btmc.Trade;

/// <summary>What a submission sealed: its records and where each is.</summary>
public sealed record TradeCommit(IReadOnlyList<SealedTradeRecord> Records, string BlockHash);

/// <summary>
/// The trade chain (docs/trade.md, "The trade chain"): trade documents and finance records, sealed as blocks under the
/// producer schedule like every chain, and replayed into a <see cref="TradeState"/> by every instance. A request
/// becomes records that are checked against the state at the block's height and committed before it is answered, so
/// an accepted request survives a crash.
/// <para>
/// Why the chain decides, and no table: two instances that check requests against the same height race for one block
/// row, an insert that only one of them wins (<see cref="ChainStore.TryCommitAsync"/>). The loser reads the winner's
/// block, checks its requests again and finds, say, the receivable financed. So of two financing requests on two
/// servers exactly one is granted, the first in ledger order, and anyone replaying the chain derives the same holder.
/// </para>
/// <para>
/// Requests that arrive while a block is being sealed wait for the next one and then go in together (group commit):
/// one slot seals every request queued by then, each checked against the state after the ones before it in the block;
/// a request that fails its check is refused alone.
/// </para>
/// </summary>
public sealed class TradeLedger(ChainStore store, BlockScheduler scheduler, TimeProvider time)
{
    public const string ChainId = "trade";

    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SemaphoreSlim _syncGate = new(1, 1);
    private readonly object _queueLock = new();
    private readonly List<Submission> _queue = [];
    private ChainHead? _head;
    private ChainSchedule? _schedule;
    private volatile TradeState _state = new();

    /// <summary>The state as of the last block read; replaced, never changed, so readers need no lock.</summary>
    public TradeState State => _state;

    public ChainStore Store => store;

    public ChainHead? Head => _head;

    /// <summary>Reads any trade blocks committed since the last read (by this or another instance) and applies them.</summary>
    /// <exception cref="InvalidOperationException">A stored block does not apply: the trade chain is damaged.</exception>
    public async Task SyncAsync(CancellationToken cancellationToken = default)
    {
        await _syncGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _schedule ??= new ChainSchedule(scheduler.Rules, ChainId);

            // Blocks are applied to a copy, and the head, schedule and state move together once all applied: a block that
            // does not apply (a damaged chain) leaves this instance where it was, never ahead of its state.
            TradeState? next = null;
            var head = _head;
            var follows = new List<(long Slot, byte[] Signature)>();
            while (await store.Reader.GetBlockAsync(ChainId, (head?.Height ?? -1) + 1, cancellationToken).ConfigureAwait(false) is { } block)
            {
                var entries = await store.Reader.ReadEntriesAsync(ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
                next ??= _state.Clone();
                foreach (var entry in entries)
                {
                    next.Apply(TradeRecord.FromJson(entry.Event.Span), entry.Event, new TradePosition(block.Header.Height, entry.LeafIndex));
                }

                follows.Add((scheduler.Rules.Clock.SlotOf(block.Header.SlotTime) ?? throw new InvalidOperationException($"Trade block {block.Header.Height} is not at a slot start."), block.Signature));
                head = new ChainHead(ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, 0, (head?.TotalEntries ?? 0) + block.Header.LeafCount);
            }

            if (next is not null)
            {
                foreach (var (slot, signature) in follows)
                {
                    _schedule.Follow(slot, signature);
                }

                (_head, _state) = (head, next);
            }
        }
        finally
        {
            _syncGate.Release();
        }
    }

    /// <summary>
    /// Seals the records <paramref name="build"/> makes from the state at the block's height and returns them once
    /// committed. <paramref name="build"/> may run more than once (after another instance took the height); it throws
    /// <see cref="Refused"/> to refuse, and returning no records seals nothing (the answer is then empty).
    /// </summary>
    public async Task<TradeCommit> SubmitAsync(Func<TradeState, IReadOnlyList<TradeRecord>> build, CancellationToken cancellationToken = default)
    {
        var submission = new Submission(build);
        lock (_queueLock)
        {
            _queue.Add(submission);
        }

        // Whoever holds the gate seals everything queued; the others find their submission done when they get it.
        try
        {
            while (!submission.Done.Task.IsCompleted)
            {
                await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (!submission.Done.Task.IsCompleted)
                    {
                        await SealQueuedAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    _writeGate.Release();
                }
            }
        }
        catch when (!submission.Done.Task.IsCompleted)
        {
            // The caller gets the failure (the store out of reach, or it went away): its request is not sealed later
            // behind its back. A retry is idempotent either way.
            Dequeue(submission);
            throw;
        }

        return await submission.Done.Task.ConfigureAwait(false);
    }

    private async Task SealQueuedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await SyncAsync(cancellationToken).ConfigureAwait(false);
            var turn = await scheduler.WaitForTurnAsync(_schedule!, cancellationToken).ConfigureAwait(false);
            await SyncAsync(cancellationToken).ConfigureAwait(false);
            if (_schedule!.LastSlot >= turn.Slot)
            {
                continue; // another instance sealed this slot meanwhile
            }

            List<Submission> batch;
            lock (_queueLock)
            {
                batch = [.. _queue];
            }

            // Check each submission against the state after the ones before it; a refusal answers that one only.
            var preview = _state.Clone();
            var accepted = new List<(Submission Submission, IReadOnlyList<TradeRecord> Records)>();
            foreach (var submission in batch)
            {
                var applied = 0;
                try
                {
                    var records = submission.Build(preview);
                    foreach (var record in records)
                    {
                        preview.Apply(record, record.ToJson(), new TradePosition(-1, -1));
                        applied++;
                    }

                    accepted.Add((submission, records));
                }
                catch (Exception ex) when (ex is Refused or InvalidOperationException)
                {
                    Dequeue(submission);
                    submission.Done.TrySetException(ex is InvalidOperationException { InnerException: Refused refused } ? refused : ex);
                    if (applied > 0)
                    {
                        // A submission refused half-way (its second record fails after its first applied): rebuild the
                        // preview without it. Rare, so the common path applies in place instead of copying the state.
                        preview = _state.Clone();
                        foreach (var record in accepted.SelectMany(a => a.Records))
                        {
                            preview.Apply(record, record.ToJson(), new TradePosition(-1, -1));
                        }
                    }
                }
            }

            var rows = accepted.SelectMany(a => a.Records).Select(r =>
            {
                var json = r.ToJson();
                return new EntryRow(r.Id, Hash32.Compute(json), json, ChainId, r.Actor, time.GetUtcNow(), 0);
            }).ToList();
            if (rows.Count == 0)
            {
                // Nothing to seal: each answer rests on committed records only.
                foreach (var (submission, _) in accepted)
                {
                    Dequeue(submission);
                    submission.Done.TrySetResult(new TradeCommit([], string.Empty));
                }

                return;
            }

            var committed = await store.AppendAsync(ChainId, _head, turn, rows, cancellationToken).ConfigureAwait(false);
            if (committed is null)
            {
                continue; // another instance took the height: read its block, check everything again
            }

            await SyncAsync(cancellationToken).ConfigureAwait(false);
            await store.WriteHeadHintAsync(_head!, cancellationToken).ConfigureAwait(false);
            // A submission that sealed nothing is answered only now: it may rest on a record earlier in this block (the
            // same financier asking twice at once), which would not be there had another instance taken the height.
            var state = _state;
            foreach (var (submission, records) in accepted)
            {
                Dequeue(submission);
                submission.Done.TrySetResult(new TradeCommit(records.Select(r => state.Records[r.Id]).ToList(), committed.BlockHash.ToHex()));
            }

            return;
        }
    }

    private void Dequeue(Submission submission)
    {
        lock (_queueLock)
        {
            _queue.Remove(submission);
        }
    }

    private sealed class Submission(Func<TradeState, IReadOnlyList<TradeRecord>> build)
    {
        public Func<TradeState, IReadOnlyList<TradeRecord>> Build => build;

        public TaskCompletionSource<TradeCommit> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
