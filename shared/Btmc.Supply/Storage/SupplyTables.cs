using Btmc.Chains;
using Btmc.Platform.Tables;

namespace Btmc.Supply.Storage;

/// <summary>
/// Where the supply capability keeps what is not a block (docs/storage-layout.md); the blocks, entries, head hints
/// and producer keys are the <see cref="Chain"/> tables every chain shares.
/// <list type="bullet">
/// <item><c>eventindex{s}</c>, as many tables as chains, sharded by SHA-256(ledger id) modulo the chain count: PK one
/// hex digit of that digest, RK the whole hex digest, with the chain, height and leaf in the row. Written after the
/// block row. A lookup needs only the id, whichever chain sealed the event.</item>
/// <item><c>terms{s}</c>, as many tables as chains, sharded by term: the identifiers and own eventIDs the sealed
/// events name (see <see cref="Query.TermIndex"/>). Written after the block row, with the event index.</item>
/// <item><c>captures</c>: PK capture id, RK "summary", "ids-NNNN" (event ids), "error-..." (sealing-time faults).</item>
/// <item><c>deadletters</c>: PK chain id, RK sequence number (19 digits): hub messages the sealer could not read.</item>
/// <item><c>claims</c>: PK the identifier's term key, RK the role or role|SHA-256(event id): physical-consistency
/// claims of accepted events, shared by every server on the store.</item>
/// <item><c>queries</c>: PK partner id, RK query name: each partner's named queries (<see cref="Query.NamedQueries"/>).</item>
/// <item><c>masterdata</c>: PK partner id, RK vocabulary element id: the master data each partner captured
/// (<see cref="Btmc.Supply.MasterData.MasterDataStore"/>).</item>
/// </list>
/// </summary>
public sealed class SupplyTables(ITableServiceClient service, int partitions, string tablePrefix = "")
{
    public const string CaptureSummaryRow = "summary";

    /// <summary>The rows of a capture that hold its event ids, one per line (<see cref="LongText"/>).</summary>
    public const string CaptureIdsRowPrefix = "ids-";

    /// <summary>The block, entry, head and producer key tables, shared with every other chain.</summary>
    public ChainTables Chain { get; } = new(service, tablePrefix);

    private readonly ITableClient[] _eventIndex = Enumerable.Range(0, partitions).Select(p => service.GetTableClient($"{tablePrefix}eventindex{p}")).ToArray();

    /// <summary>Event index shard <paramref name="shard"/> (0 .. chain count - 1), see <see cref="EventKey"/>.</summary>
    public ITableClient EventIndex(int shard) => _eventIndex[shard];

    public IReadOnlyList<ITableClient> EventIndexes => _eventIndex;

    private readonly ITableClient[] _terms = Enumerable.Range(0, partitions).Select(p => service.GetTableClient($"{tablePrefix}terms{p}")).ToArray();

    /// <summary>Term index shard <paramref name="shard"/> (0 .. chain count - 1).</summary>
    public ITableClient Terms(int shard) => _terms[shard];

    public int Partitions => partitions;

    public ITableClient Captures { get; } = service.GetTableClient(tablePrefix + "captures");

    /// <summary>Bodies the Event Hubs trigger delivered that are no valid envelope: PK chain id, RK sequence number.</summary>
    public ITableClient DeadLetters { get; } = service.GetTableClient(tablePrefix + "deadletters");

    /// <summary>Physical-consistency claims (<see cref="Capture.PhysicalConsistency"/>): PK the identifier's term key,
    /// RK the role (head row, versioned by its ETag) or role|SHA-256(event id) (one claim).</summary>
    public ITableClient Claims { get; } = service.GetTableClient(tablePrefix + "claims");

    /// <summary>Named queries (<see cref="Query.NamedQueries"/>): PK partner id, RK query name.</summary>
    public ITableClient Queries { get; } = service.GetTableClient(tablePrefix + "queries");

    /// <summary>Query subscriptions (<see cref="Subscriptions.SubscriptionStore"/>): PK partner id, RK subscription id.</summary>
    public ITableClient Subscriptions { get; } = service.GetTableClient(tablePrefix + "subscriptions");

    /// <summary>Captured master data (<see cref="Btmc.Supply.MasterData.MasterDataStore"/>): PK partner id, RK vocabulary element id.</summary>
    public ITableClient MasterData { get; } = service.GetTableClient(tablePrefix + "masterdata");

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        await Chain.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var table in new[] { Captures, DeadLetters, Claims, Queries, Subscriptions, MasterData }.Concat(_eventIndex).Concat(_terms))
        {
            await table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
