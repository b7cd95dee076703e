using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Platform.EventHubs;
using Btmc.Platform.EventLog;
using Btmc.Platform.Tables;
using Btmc.Supply.Capture;
using Btmc.Supply.Genealogy;
using Btmc.Supply.MasterData;
using Btmc.Supply.Ownership;
using Btmc.Supply.Query;
using Btmc.Supply.Receipts;
using Btmc.Supply.Sealing;
using Btmc.Supply.Storage;
using Btmc.Supply.Subscriptions;

namespace Btmc.Supply;

/// <summary>One event as the Event Hubs trigger delivers it: its position on its partition and its body (text).</summary>
public sealed record HubDelivery(long SequenceNumber, string Offset, DateTimeOffset EnqueuedTime, ReadOnlyMemory<byte> Body);

/// <summary>What became of a delivered batch: what was sealed, and how many events went to the dead-letter table.</summary>
public sealed record DeliveryOutcome(SealOutcome Sealed, int DeadLettered);

/// <summary>
/// The supply capability assembled over its ports: capture (sequencing), one sealer per chain (integration) and the
/// read side (publishing). Two shapes, over the same table store:
/// <list type="bullet">
/// <item>the embedded default: accepted events go to the local event log, and one <see cref="LogSealer"/> per log
/// partition seals them in this process;</item>
/// <item>Event Hubs: accepted events go to the supply-events hub, and the hub's trigger hands each partition's
/// batches to <see cref="SealDeliveredAsync"/>, on whichever instance holds that partition's lease.</item>
/// </list>
/// </summary>
public sealed class SupplyBackend
{
    /// <summary>The embedded default: events on the local log, sealed in this process.</summary>
    public SupplyBackend(SupplyOptions options, ITableServiceClient tableService, IEventLog log, BlockScheduler scheduler, TimeProvider? time = null)
        : this(options, tableService, scheduler, log, null, time)
    {
    }

    /// <summary>Azure: events published to the supply-events hub, sealed by its trigger.</summary>
    public SupplyBackend(SupplyOptions options, ITableServiceClient tableService, IEventHubSender supplyEvents, BlockScheduler scheduler, TimeProvider? time = null)
        : this(options, tableService, scheduler, null, supplyEvents, time)
    {
    }

    private SupplyBackend(SupplyOptions options, ITableServiceClient tableService, BlockScheduler scheduler, IEventLog? log, IEventHubSender? supplyEvents, TimeProvider? time)
    {
        options.Validate();
        if (log is not null && log.PartitionCount != options.Partitions)
        {
            throw new ArgumentException($"The event log has {log.PartitionCount} partitions but Supply:Partitions is {options.Partitions}.", nameof(log));
        }

        Options = options;
        Time = time ?? TimeProvider.System;
        Log = log;
        Scheduler = scheduler;
        OnEventHubs = supplyEvents is not null;
        Tables = new SupplyTables(tableService, options.Partitions, options.TablePrefix);
        Pending = new PendingEvents();
        SealedEvents = new SealedEventFilter();
        Reader = new SupplyReader(options, Tables, Pending);
        Terms = new TermIndex(Tables, options);
        Ownership = new OwnershipTracker(Terms, Reader);
        Assets = new AssetReader(Ownership, Reader);
        Consistency = new PhysicalConsistency(Terms, Tables, Pending, Reader, Time) { Ownership = Ownership };
        MasterData = new MasterDataStore(Tables, Time);
        Query = new EventQuery(options, Reader, Terms) { MasterData = MasterData };
        NamedQueries = new NamedQueries(Tables, Time);
        Subscriptions = new SubscriptionStore(Tables, NamedQueries, Time);
        Genealogy = new GenealogyTracer(options, Terms, Reader, SealedEvents);
        ISupplyEventPublisher publisher = supplyEvents is not null ? new EventHubPublisher(supplyEvents) : new EventLogPublisher(log!);
        Capture = new CaptureService(options, Tables, publisher, Pending, Reader, SealedEvents, Consistency, checkSealed: !OnEventHubs, Time, Terms);
        Auditor = new SupplyAuditor(Reader.Chain);
        Store = new ChainStore(Reader.Chain);
        Receipts = new ReceiptIssuer(Reader, Store);
        ChainSealers = Enumerable.Range(0, options.Partitions)
            .Select(p => new Sealer(p, options, Reader, Store, scheduler, Pending, SealedEvents, Terms, soleSealer: !OnEventHubs, log?.LogId))
            .ToList();
        Sealers = log is null ? [] : ChainSealers.Select(s => new LogSealer(s, log, options, Time)).ToList();
    }

    public SupplyOptions Options { get; }

    /// <summary>The term index's backfill of blocks sealed by an earlier version (<see cref="TermIndex.StartBackfillAsync"/>); completed when there was none.</summary>
    public Task TermBackfill { get; private set; } = Task.CompletedTask;

    /// <summary>The clock capture, sealing and their liveness read.</summary>
    public TimeProvider Time { get; }

    /// <summary>The embedded event log; null on Event Hubs.</summary>
    public IEventLog? Log { get; }

    /// <summary>True when accepted events go to the Event Hubs supply-events hub and its trigger seals them.</summary>
    public bool OnEventHubs { get; }

    /// <summary>Who signs each chain's next block, and when (the producer schedule and this process's producer keys).</summary>
    public BlockScheduler Scheduler { get; }

    /// <summary>Block writing, shared with the governance chain.</summary>
    public ChainStore Store { get; }

    public SupplyTables Tables { get; }

    public PendingEvents Pending { get; }

    public TermIndex Terms { get; }

    public PhysicalConsistency Consistency { get; }

    /// <summary>Who owns and holds an identifier (docs/trade.md, "Ownership"); its <see cref="OwnershipTracker.Partners"/>
    /// is set by the server from the partner registry.</summary>
    public OwnershipTracker Ownership { get; }

    /// <summary>Ownership as a caller may see it, and its proof bundle.</summary>
    public AssetReader Assets { get; }

    public EventQuery Query { get; }

    /// <summary>Captured master data, by partner (docs/epcis-capture.md, "Master data").</summary>
    public MasterDataStore MasterData { get; }

    /// <summary>Each partner's named queries (EPCIS 2.0 <c>/queries</c>).</summary>
    public NamedQueries NamedQueries { get; }

    /// <summary>Query subscriptions (docs/epcis-query.md, "Subscriptions"), delivered by the function app's dispatcher.</summary>
    public SubscriptionStore Subscriptions { get; }

    public GenealogyTracer Genealogy { get; }

    /// <summary>The sealed-event filter: complete on the embedded log; on Event Hubs it knows only this instance's seals
    /// and is not consulted for deduplication.</summary>
    public SealedEventFilter SealedEvents { get; }

    public SupplyReader Reader { get; }

    public CaptureService Capture { get; }

    public SupplyAuditor Auditor { get; }

    public ReceiptIssuer Receipts { get; }

    /// <summary>One sealer per chain (chain n seals partition n of the supply-events stream).</summary>
    public IReadOnlyList<Sealer> ChainSealers { get; }

    /// <summary>The embedded log's sealing loops, one per partition; empty on Event Hubs.</summary>
    public IReadOnlyList<LogSealer> Sealers { get; }

    /// <summary>
    /// On the embedded log: whether this server's log seals the ledger in these tables (decided by <see cref="StartAsync"/>,
    /// see <see cref="ClaimSealingAsync"/>). Always true on Event Hubs, where the hub is the one stream.
    /// </summary>
    public bool IsSealingOwner { get; private set; } = true;

    /// <summary>The event log that seals the ledger (log id and where it is), as the tables record it; null on Event Hubs.</summary>
    public (string LogId, string Location)? SealingLog { get; private set; }

    /// <summary>
    /// Seals a batch the Event Hubs trigger delivered from one partition. A body that is not a valid envelope goes to
    /// the dead-letter table (keyed by chain and sequence number, with its offset and the reason) and does not stop
    /// the partition; the others are sealed, in order, into that partition's chain. Idempotent: a batch delivered
    /// again, or overlapping an earlier one, seals nothing twice.
    /// </summary>
    public async Task<DeliveryOutcome> SealDeliveredAsync(int partition, IReadOnlyList<HubDelivery> deliveries, CancellationToken cancellationToken = default)
    {
        if (partition < 0 || partition >= Options.Partitions)
        {
            throw new ArgumentOutOfRangeException(nameof(partition), partition,
                $"Event hub partition {partition} has no chain: Supply:Partitions is {Options.Partitions}, and must equal the hub's partition count.");
        }

        var sealer = ChainSealers[partition];
        var events = new List<DeliveredEvent>(deliveries.Count);
        var deadLetters = new List<TableTransactionAction>();
        foreach (var delivery in deliveries)
        {
            try
            {
                events.Add(new DeliveredEvent(delivery.SequenceNumber, SupplyEventEnvelope.Decode(delivery.Body)));
            }
            catch (FormatException ex)
            {
                deadLetters.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, DeadLetter(sealer.ChainId, delivery, ex.Message)));
            }
        }

        await TableTransactions.SubmitAsync(Tables.DeadLetters, deadLetters, cancellationToken).ConfigureAwait(false);

        var outcome = events.Count > 0 ? await sealer.SealAsync(events, cancellationToken).ConfigureAwait(false) : new SealOutcome([], 0);
        return new DeliveryOutcome(outcome, deadLetters.Count);
    }

    private TableEntity DeadLetter(string chainId, HubDelivery delivery, string reason)
    {
        // One entity holds at most 1 MiB, one binary property 64 KiB: the body is kept up to that, and its length said.
        var body = delivery.Body.Length <= ChainTables.MaxBinaryProperty ? delivery.Body : delivery.Body[..ChainTables.MaxBinaryProperty];
        return new TableEntity(chainId, ChainTables.HeightKey(delivery.SequenceNumber), new Dictionary<string, object>
        {
            ["SequenceNumber"] = delivery.SequenceNumber,
            ["Offset"] = delivery.Offset,
            ["EnqueuedTime"] = delivery.EnqueuedTime,
            ["Reason"] = reason.Length <= 4000 ? reason : reason[..4000],
            ["BodyLength"] = (long)delivery.Body.Length,
            ["Body"] = body.ToArray(),
            ["DeadLetteredAt"] = Time.GetUtcNow(),
        });
    }

    /// <summary>
    /// On Event Hubs: drops the pending registrations of events this instance
    /// accepted that are sealed now — by this instance's trigger or another's — looking up those accepted before
    /// <paramref name="acceptedBefore"/>, at most <paramref name="max"/> per call. Returns how many it dropped.
    /// </summary>
    public async Task<int> SweepPendingAsync(DateTimeOffset acceptedBefore, int max = 1000, CancellationToken cancellationToken = default)
    {
        var candidates = Pending.AcceptedBefore(acceptedBefore, max);
        var released = 0;
        await Parallel.ForEachAsync(candidates, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (evt, ct) =>
        {
            if (await Reader.FindSealedAsync(evt.EventId, ct).ConfigureAwait(false) is not null)
            {
                Pending.Remove(evt);
                Interlocked.Increment(ref released);
            }
        }).ConfigureAwait(false);
        return released;
    }

    /// <summary>
    /// Creates the tables; on the embedded log also fills the sealed-event filter from
    /// the event index and rebuilds the pending events from the unsealed log tail, writing their physical-consistency
    /// claims durable. On Event Hubs each chain's sealer finds its head when its first batch arrives.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await Tables.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        // A ledger sealed by an earlier version gets the term index's newer rows in the background; until then the
        // queries that need them scan (TermIndex.Complete).
        var backfill = await Terms.StartBackfillAsync(Reader.Chain, cancellationToken).ConfigureAwait(false);
        TermBackfill = backfill is null ? Task.CompletedTask : Task.Run(() => backfill(CancellationToken.None), CancellationToken.None);
        if (Log is null)
        {
            return;
        }

        if (!await ClaimSealingAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        foreach (var index in Tables.EventIndexes)
        {
            await foreach (var row in index.QueryAllAsync(new TableQuery(Select: ["Height"]), cancellationToken).ConfigureAwait(false))
            {
                SealedEvents.Add(EventKey.FromIndexRowKey(row.RowKey, Options.Partitions));
            }
        }

        foreach (var sealer in Sealers)
        {
            await sealer.RecoverAsync(cancellationToken).ConfigureAwait(false);
            var end = Log.GetEndSequenceNumber(sealer.Partition);
            for (var next = sealer.NextSequenceNumber; next < end;)
            {
                var events = await Log.ReadAsync(sealer.Partition, next, 1000, cancellationToken).ConfigureAwait(false);
                if (events.Count == 0)
                {
                    break;
                }

                foreach (var logged in events)
                {
                    // A copy of an event already sealed (appended twice before a crash) is not pending.
                    var r = EventRecord.Decode(logged.Body);
                    var key = EventKey.For(r.EventId, Options.Partitions);
                    if (!SealedEvents.MightContain(key) || await Reader.FindSealedAsync(key, cancellationToken).ConfigureAwait(false) is null)
                    {
                        using var json = JsonDocument.Parse(r.Json);
                        var terms = EventTerms.Of(json.RootElement);
                        if (Pending.TryAdd(PendingEvent.FromLog(r, SupplyPartitionKey.Of(terms, r.EventId), sealer.Partition, logged.Body.ToArray()), out _))
                        {
                            // The log holds the event: its claims are durable, whatever a crash left in the claims table.
                            await Consistency.ClaimUncheckedAsync(r.CaptureId, r.Partner, r.EventId, terms, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }

                next = events[^1].SequenceNumber + 1;
            }
        }
    }

    /// <summary>
    /// One sealing log per ledger (docs/architecture.md, "One sealing log"). On the embedded default each server seals
    /// from its own event log, and its deduplication rests on seeing every seal (the sealed-event filter, pending
    /// registrations), while log positions mean something only within one log. A second server with another data
    /// folder on the same tables would break both: positions recorded from one log would skip the other's events, and
    /// an event captured at both would be sealed twice. So the tables record which log seals them (PK "owners",
    /// RK "supply-log" in the chains table), claimed by the first server to start; another log's server serves reads
    /// and governance, and refuses captures (503, naming the owner). Returns whether this server's log is the owner.
    /// </summary>
    public async Task<bool> ClaimSealingAsync(CancellationToken cancellationToken = default)
    {
        var log = Log ?? throw new InvalidOperationException("On Event Hubs every instance seals what the hub delivers; there is no sealing log to claim.");
        while (true)
        {
            var row = await Tables.Chain.Heads.GetEntityIfExistsAsync(OwnersPartition, SealingLogRow, cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                try
                {
                    await Tables.Chain.Heads.AddEntityAsync(new TableEntity(OwnersPartition, SealingLogRow, new Dictionary<string, object>
                    {
                        ["LogId"] = log.LogId,
                        ["Location"] = log.Location,
                        ["ClaimedAt"] = Time.GetUtcNow(),
                    }), cancellationToken).ConfigureAwait(false);
                }
                catch (TableStoreException ex) when (ex.Status == 409)
                {
                    // Another server claimed it first (or this insert's first attempt landed): read who owns it.
                }

                continue;
            }

            SealingLog = (row.GetString("LogId"), row.GetString("Location"));
            IsSealingOwner = string.Equals(SealingLog.Value.LogId, log.LogId, StringComparison.Ordinal);
            Capture.NotSealingReason = IsSealingOwner ? null
                : $"This server's event log ({log.LogId} at {log.Location}) does not seal the ledger in these tables; the event log {SealingLog.Value.LogId} at {SealingLog.Value.Location} does. " +
                  "Send captures to the server that owns that log, or give this server tables of its own.";
            return IsSealingOwner;
        }
    }

    /// <summary>The chains-table partition of ownership rows.</summary>
    public const string OwnersPartition = "owners";

    /// <summary>The row naming the event log that seals the supply chains.</summary>
    public const string SealingLogRow = "supply-log";

    /// <summary>Every chain id this backend seals into.</summary>
    public IEnumerable<string> ChainIds => ChainSealers.Select(s => s.ChainId);
}
