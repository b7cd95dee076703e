using Btmc.Epcis;
using System.Text.Json;
using Btmc.Platform.EventLog;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;

namespace Btmc.Supply;

/// <summary>
/// The supply capability assembled over its ports: capture (sequencing), one sealer per partition (integration) and
/// the read side (publishing). The same assembly runs over the embedded adapters and the Azure ones.
/// </summary>
public sealed class SupplyBackend
{
    public SupplyBackend(SupplyOptions options, ITableServiceClient tableService, IEventLog log, IBlockSigner signer)
    {
        options.Validate();
        if (log.PartitionCount != options.Partitions)
        {
            throw new ArgumentException($"The event log has {log.PartitionCount} partitions but Supply:Partitions is {options.Partitions}.", nameof(log));
        }

        Options = options;
        Log = log;
        Signer = signer;
        Tables = new LedgerTables(tableService, options.Partitions, options.TablePrefix);
        Pending = new PendingEvents();
        SealedEvents = new SealedEventFilter();
        Reader = new LedgerReader(options, Tables, Pending);
        Terms = new TermIndex(Tables, options);
        Consistency = new PhysicalConsistency(Terms);
        Query = new EventQuery(options, Tables, Reader, Terms);
        Genealogy = new Genealogy(options, Tables, Terms, Reader, SealedEvents);
        Capture = new CaptureService(options, Tables, log, Pending, Reader, SealedEvents, Consistency);
        Auditor = new ChainAuditor(Tables, Reader);
        Sealers = Enumerable.Range(0, options.Partitions)
            .Select(p => new Sealer(p, options, Tables, log, signer, Pending, Reader, SealedEvents, Terms, Consistency))
            .ToList();
    }

    public SupplyOptions Options { get; }

    public IEventLog Log { get; }

    public IBlockSigner Signer { get; }

    public LedgerTables Tables { get; }

    public PendingEvents Pending { get; }

    public TermIndex Terms { get; }

    public PhysicalConsistency Consistency { get; }

    public EventQuery Query { get; }

    public Genealogy Genealogy { get; }

    public SealedEventFilter SealedEvents { get; }

    public LedgerReader Reader { get; }

    public CaptureService Capture { get; }

    public ChainAuditor Auditor { get; }

    public IReadOnlyList<Sealer> Sealers { get; }

    /// <summary>
    /// Creates the tables, registers the producer key, fills the sealed-event filter from the event index, and
    /// rebuilds the pending events (and their physical-consistency claims) from the unsealed log tail.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await Tables.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var index in Tables.EventIndexes)
        {
            string? continuation = null;
            do
            {
                var page = await index.QueryAsync(new TableQuery(MaxPerPage: 1000, ContinuationToken: continuation, Select: ["Height"]), cancellationToken).ConfigureAwait(false);
                foreach (var row in page.Items)
                {
                    SealedEvents.Add(EventKey.FromIndexRowKey(row.RowKey, Options.Partitions));
                }

                continuation = page.ContinuationToken;
            }
            while (continuation is not null);
        }

        await Tables.ProducerKeys.UpsertEntityAsync(new TableEntity(LedgerTables.KeysPartition, Signer.KeyId, new Dictionary<string, object>
        {
            ["ProducerId"] = Signer.ProducerId,
            ["Jwk"] = JsonSerializer.Serialize(Signer.PublicKey),
        }), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);

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
                        if (Pending.TryAdd(PendingEvent.FromLog(r, sealer.Partition, logged.Body.ToArray()), out _))
                        {
                            using var json = JsonDocument.Parse(r.Json);
                            Consistency.ClaimUnchecked(r.EventId, EventTerms.Of(json.RootElement));
                        }
                    }
                }

                next = events[^1].SequenceNumber + 1;
            }
        }
    }

    /// <summary>Every chain id this backend seals into.</summary>
    public IEnumerable<string> ChainIds => Sealers.Select(s => s.ChainId);
}
