using System.Globalization;
using Btmc.Ledger;
using Btmc.Platform.Tables;

namespace Btmc.Supply;

/// <summary>
/// Where the ledger lives in the table store (docs/architecture.md, "Storage").
/// <list type="bullet">
/// <item><c>blocks</c>: PK chain id, RK height (19 digits). The block row is the commit point of a block.</item>
/// <item><c>entries</c>: PK "{chain}:{height}:{block hash prefix}", RK leaf index (10 digits). Written before the
/// block row; an attempt that never commits leaves rows in a partition no block names, so it cannot touch a
/// committed block's entries.</item>
/// <item><c>eventindex{s}</c>, as many tables as chains, sharded by SHA-256(ledger id) modulo the chain count: PK one
/// hex digit of that digest, RK the whole hex digest, with the chain, height and leaf in the row. Written after the
/// block row. A lookup needs only the id, whichever chain sealed the event.</item>
/// <item><c>terms{s}</c>, as many tables as chains, sharded by term: the identifiers and own eventIDs the sealed
/// events name (see <see cref="TermIndex"/>). Written after the block row, with the event index.</item>
/// <item><c>chains</c>: PK "chains", RK chain id: the head as last recorded (a hint; the block rows are the truth).</item>
/// <item><c>captures</c>: PK capture id, RK "summary", "ids-NNNN" (event ids), "error-..." (sealing-time faults).</item>
/// <item><c>producerkeys</c>: PK "keys", RK key id (JWK thumbprint): the public keys blocks are signed with.</item>
/// <item><c>deadletters</c>: PK chain id, RK sequence number (19 digits): hub messages the sealer could not read.</item>
/// </list>
/// </summary>
public sealed class LedgerTables(ITableServiceClient service, int partitions, string tablePrefix = "")
{
    public const string ChainsPartition = "chains";
    public const string KeysPartition = "keys";
    public const string CaptureSummaryRow = "summary";

    public ITableClient Blocks { get; } = service.GetTableClient(tablePrefix + "blocks");

    public ITableClient Entries { get; } = service.GetTableClient(tablePrefix + "entries");

    private readonly ITableClient[] _eventIndex = Enumerable.Range(0, partitions).Select(p => service.GetTableClient($"{tablePrefix}eventindex{p}")).ToArray();

    /// <summary>Event index shard <paramref name="shard"/> (0 .. chain count - 1), see <see cref="EventKey"/>.</summary>
    public ITableClient EventIndex(int shard) => _eventIndex[shard];

    public IReadOnlyList<ITableClient> EventIndexes => _eventIndex;

    private readonly ITableClient[] _terms = Enumerable.Range(0, partitions).Select(p => service.GetTableClient($"{tablePrefix}terms{p}")).ToArray();

    /// <summary>Term index shard <paramref name="shard"/> (0 .. chain count - 1).</summary>
    public ITableClient Terms(int shard) => _terms[shard];

    public int Partitions => partitions;

    public ITableClient Chains { get; } = service.GetTableClient(tablePrefix + "chains");

    public ITableClient Captures { get; } = service.GetTableClient(tablePrefix + "captures");

    public ITableClient ProducerKeys { get; } = service.GetTableClient(tablePrefix + "producerkeys");

    /// <summary>Bodies the Event Hubs trigger delivered that are no valid envelope: PK chain id, RK sequence number.</summary>
    public ITableClient DeadLetters { get; } = service.GetTableClient(tablePrefix + "deadletters");

    /// <summary>The largest binary property Table storage stores (64 KiB).</summary>
    public const int MaxBinaryProperty = 64 * 1024;

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        foreach (var table in new[] { Blocks, Entries, Chains, Captures, ProducerKeys, DeadLetters }.Concat(_eventIndex).Concat(_terms))
        {
            await table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public static string HeightKey(long height) => height.ToString("D19", CultureInfo.InvariantCulture);

    public static string EntriesPartition(string chainId, long height, Hash32 blockHash) =>
        $"{chainId}:{HeightKey(height)}:{blockHash.ToHex()[..32]}";

    public static string LeafKey(long leafIndex) => leafIndex.ToString("D10", CultureInfo.InvariantCulture);
}
