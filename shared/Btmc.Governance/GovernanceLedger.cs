using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;

namespace Btmc.Governance;

/// <summary>A governance block this process committed: where, when, and the records it holds.</summary>
public sealed record GovernanceBlock(long Height, DateTimeOffset SlotTime, string ProducerId, IReadOnlyList<GovernanceRecord> Records);

/// <summary>How a new ledger starts: its deployment id, slot length, first committee and producers.</summary>
/// <param name="DeploymentId">Names the deployment in the domain id <c>btmc/&lt;deployment&gt;/governance</c>.</param>
/// <param name="SlotMilliseconds">Slot length (3000 in production).</param>
/// <param name="Committee">The five members and their public keys; empty to start without a committee.</param>
/// <param name="Producers">The first producers, with the keys this process signs with.</param>
public sealed record GenesisSettings(string DeploymentId, int SlotMilliseconds, IReadOnlyList<MemberKey> Committee, IReadOnlyList<GenesisProducer> Producers);

/// <summary>A first producer: its id, its key reference as the registry records it (a Key Vault key id or a key file
/// name), and the key itself.</summary>
public sealed record GenesisProducer(string Producer, string KeyReference, ISigningKey Key);

/// <summary>
/// The governance chain (docs/dpos.md): genesis, the committee's proposals, approvals and executions, and token
/// holders' votes, sealed as blocks under the same producer schedule as the supply chains, through the same tables.
/// A request becomes records that are checked against the state at the block's slot and committed in one block before
/// the request is answered, so an accepted request survives a crash. Blocks are appended one at a time in this
/// process; another instance that commits the same height first makes this one re-read the chain and check its
/// records again, so a proposal executes once whoever submits its approvals.
/// </summary>
public sealed class GovernanceLedger(ChainStore store, ProducerKeyring keyring, TimeProvider time, Func<ProducerEntry, CancellationToken, Task<ISigningKey?>>? openProducerKey = null)
{
    /// <summary>A block that was signed this long after its slot began is not committed: the schedule's electorate for
    /// later rounds must be settled well before they begin (docs/dpos.md).</summary>
    public static readonly TimeSpan CommitDeadline = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SemaphoreSlim _syncGate = new(1, 1);
    private readonly HashSet<string> _triedKeys = new(StringComparer.Ordinal);
    private ChainHead? _head;
    private ChainSchedule? _schedule;
    private BlockScheduler? _scheduler;
    private volatile PartnerDirectory _partners = PartnerDirectory.Empty;

    /// <summary>Where the governance chain is written.</summary>
    public ChainStore Store => store;

    public GovernanceReplay Replay { get; private set; } = new();

    public GovernanceState State => Replay.State;

    /// <summary>The producer schedule's rules, from genesis.</summary>
    public DposRules Rules => Replay.Rules ?? throw new InvalidOperationException("The governance chain has no genesis yet; call StartAsync.");

    /// <summary>Who signs each chain's next block, and when: for the supply chains and for this one.</summary>
    public BlockScheduler Scheduler => _scheduler ?? throw new InvalidOperationException("Call StartAsync first.");

    public ChainHead? Head => _head;

    /// <summary>The partners requests authenticate as, as of the last governance block read.</summary>
    public PartnerDirectory Partners => _partners;

    /// <summary>
    /// The governance chain of the ledger in <paramref name="tableService"/>, started: its producer keys are those of
    /// <paramref name="genesis"/>, and its genesis is sealed from it when the ledger has none.
    /// </summary>
    public static async Task<GovernanceLedger> StartAsync(
        ITableServiceClient tableService, string tablePrefix, GenesisSettings genesis, TimeProvider? time = null,
        Func<ProducerEntry, CancellationToken, Task<ISigningKey?>>? openProducerKey = null, CancellationToken cancellationToken = default)
    {
        var store = new ChainStore(new ChainReader(new ChainTables(tableService, tablePrefix)));
        var ledger = new GovernanceLedger(store, new ProducerKeyring(genesis.Producers.Select(p => p.Key)), time ?? TimeProvider.System, openProducerKey);
        await ledger.StartAsync(genesis, cancellationToken).ConfigureAwait(false);
        return ledger;
    }

    /// <summary>
    /// Reads the governance chain; seals its genesis from <paramref name="genesis"/> when there is none, and the
    /// configured committee when the ledger has none yet.
    /// </summary>
    public async Task StartAsync(GenesisSettings genesis, CancellationToken cancellationToken = default)
    {
        await store.Tables.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        await SyncAsync(cancellationToken).ConfigureAwait(false);
        if (Replay.Rules is null)
        {
            await SealGenesisAsync(genesis, cancellationToken).ConfigureAwait(false);
        }

        _scheduler = new BlockScheduler(Rules, keyring, time, (_, ct) => SyncAsync(ct));
        if (State.Committee.Count == 0 && genesis.Committee.Count > 0)
        {
            await SubmitAsync((state, _) => state.Committee.Count == 0 ? [new CommitteeRecord(genesis.Committee)] : [], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads any governance blocks committed since the last read (by this or another instance) and applies them.</summary>
    /// <exception cref="InvalidOperationException">A stored block does not apply: the governance chain is damaged.</exception>
    public async Task SyncAsync(CancellationToken cancellationToken = default)
    {
        await _syncGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var newProducers = false;
            var partnersChanged = false;
            while (await store.Reader.GetBlockAsync(GovernanceReplay.ChainId, (_head?.Height ?? -1) + 1, cancellationToken).ConfigureAwait(false) is { } block)
            {
                var entries = await store.Reader.ReadEntriesAsync(GovernanceReplay.ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
                var records = entries.Select(e => GovernanceRecord.FromJson(e.Event.Span)).ToList();
                try
                {
                    Replay.ApplyBlock(block.Header.SlotTime, records);
                }
                catch (Refused ex)
                {
                    throw new InvalidOperationException($"Governance block {block.Header.Height} does not apply: {ex.Message}", ex);
                }

                _schedule ??= new ChainSchedule(Rules, GovernanceReplay.ChainId);
                _schedule.Follow(Rules.Clock.SlotOf(block.Header.SlotTime) ?? throw new InvalidOperationException($"Governance block {block.Header.Height} is not at a slot start."), block.Signature);
                _head = new ChainHead(GovernanceReplay.ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, 0, (_head?.TotalEntries ?? 0) + block.Header.LeafCount);
                newProducers |= records.Any(r => r is GenesisRecord or ExecutionRecord);
                partnersChanged |= records.Any(r => r is PartnerChangeRecord or PartnersImportRecord or ExecutionRecord);
            }

            if (partnersChanged)
            {
                _partners = new PartnerDirectory(State.Partners);
            }

            if (newProducers)
            {
                await OpenProducerKeysAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _syncGate.Release();
        }
    }

    /// <summary>
    /// Seals the records <paramref name="build"/> makes from the state at the block's slot, in one block, and
    /// returns it once committed. <paramref name="build"/> may run more than once (after losing a height to another
    /// instance); it throws <see cref="Refused"/> to refuse, and returning no records seals nothing.
    /// </summary>
    public async Task<GovernanceBlock?> SubmitAsync(Func<GovernanceState, DateTimeOffset, IReadOnlyList<GovernanceRecord>> build, CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                await SyncAsync(cancellationToken).ConfigureAwait(false);
                var turn = await Scheduler.WaitForTurnAsync(_schedule!, cancellationToken).ConfigureAwait(false);
                await SyncAsync(cancellationToken).ConfigureAwait(false);
                if (_schedule!.LastSlot >= turn.Slot)
                {
                    continue; // another instance sealed this slot meanwhile
                }

                var records = build(State, turn.SlotTime);
                if (records.Count == 0)
                {
                    return null;
                }

                _ = Replay.Preview(turn.SlotTime, records);
                if (await TryCommitAsync(turn, records, cancellationToken).ConfigureAwait(false) is { } committed)
                {
                    return committed;
                }
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task SealGenesisAsync(GenesisSettings settings, CancellationToken cancellationToken)
    {
        var clock = new SlotClock(0, settings.SlotMilliseconds).Validated();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var genesis = new GenesisRecord(
            settings.DeploymentId,
            $"btmc/{settings.DeploymentId}/{GovernanceReplay.ChainId}",
            now - (now % clock.SlotMilliseconds),
            clock.SlotMilliseconds,
            clock.SlotsPerRound,
            settings.Committee,
            settings.Producers.Select(p => new ProducerEntry(p.Producer, p.KeyReference, p.Key.PublicKey with { Kid = null })).ToList());

        // The genesis block is slot 0's, signed by the producer the genesis electorate gives that slot.
        var draft = new GovernanceReplay();
        draft.ApplyBlock(DateTimeOffset.FromUnixTimeMilliseconds(genesis.GenesisTime), [genesis]);
        var producer = new ChainSchedule(draft.Rules!, GovernanceReplay.ChainId).ProducerOf(0);
        var key = keyring.Find(producer) ?? throw new InvalidOperationException($"The genesis producer '{producer.ProducerId}' has no key in this process.");
        var turn = new SlotTurn(0, DateTimeOffset.FromUnixTimeMilliseconds(genesis.GenesisTime), producer, key);
        _schedule = new ChainSchedule(draft.Rules!, GovernanceReplay.ChainId);
        await TryCommitAsync(turn, [genesis], cancellationToken, sync: false).ConfigureAwait(false);
        _schedule = null;
        await SyncAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes and commits one block; null when another writer took the height or the slot is too old.</summary>
    private async Task<GovernanceBlock?> TryCommitAsync(SlotTurn turn, IReadOnlyList<GovernanceRecord> records, CancellationToken cancellationToken, bool sync = true)
    {
        var rows = records.Select(r =>
        {
            var json = r.ToJson();
            return new EntryRow(r.RecordId, Hash32.Compute(json), json, "governance", r.Actor, time.GetUtcNow(), 0);
        }).ToList();
        var committed = await store.AppendAsync(GovernanceReplay.ChainId, _head, turn, rows, cancellationToken,
            mayCommit: () => time.GetUtcNow() - turn.SlotTime <= CommitDeadline).ConfigureAwait(false);
        if (committed is null)
        {
            return null;
        }

        if (sync)
        {
            await SyncAsync(cancellationToken).ConfigureAwait(false);
            await store.WriteHeadHintAsync(_head!, cancellationToken).ConfigureAwait(false);
        }

        return new GovernanceBlock(committed.Header.Height, turn.SlotTime, turn.Producer.ProducerId, records);
    }

    /// <summary>Opens the keys of registered producers this process can sign for but does not hold yet (producers added
    /// by proposal whose key reference it can reach).</summary>
    private async Task OpenProducerKeysAsync(CancellationToken cancellationToken)
    {
        if (openProducerKey is null)
        {
            return;
        }

        foreach (var producer in State.Producers.Values)
        {
            var keyId = producer.PublicKey.ComputeThumbprint();
            if (!_triedKeys.Add(keyId) || keyring.Find(new ProducerCandidate(producer.Producer, producer.PublicKey, 0)) is not null)
            {
                continue;
            }

            if (await openProducerKey(producer, cancellationToken).ConfigureAwait(false) is { } key && key.KeyId == keyId)
            {
                keyring.Add(key);
            }
        }
    }
}
