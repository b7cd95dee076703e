using System.Globalization;
using Btmc.Ledger;
using Btmc.Platform.Tables;

namespace Btmc.Chains;

/// <summary>
/// Where every chain's blocks live in the table store (docs/storage-layout.md):
/// <list type="bullet">
/// <item><c>blocks</c>: PK chain id, RK height (19 digits). The block row is the commit point of a block.</item>
/// <item><c>entries</c>: PK "{chain}:{height}:{block hash prefix}", RK leaf index (10 digits). Written before the
/// block row; an attempt that never commits leaves rows in a partition no block names, so it cannot touch a
/// committed block's entries.</item>
/// <item><c>chains</c>: PK "chains", RK chain id: the head as last recorded (a hint; the block rows are the truth).</item>
/// <item><c>producerkeys</c>: PK "keys", RK key id (JWK thumbprint): the public keys blocks are signed with.</item>
/// <item><c>cosignatures</c>: PK chain id, RK "{witness key ID hex}-{size, 19 digits}" for each checkpoint a witness
/// cosigned, and "{witness key ID hex}-latest" for its largest (<see cref="WitnessCosignatures"/>).</item>
/// </list>
/// </summary>
public sealed class ChainTables(ITableServiceClient service, string tablePrefix = "")
{
    /// <summary>The partition of the <c>chains</c> table that holds the head hints.</summary>
    public const string HeadsPartition = "chains";

    public const string KeysPartition = "keys";

    /// <summary>The largest binary property Table storage stores (64 KiB).</summary>
    public const int MaxBinaryProperty = 64 * 1024;

    public ITableClient Blocks { get; } = service.GetTableClient(tablePrefix + "blocks");

    public ITableClient Entries { get; } = service.GetTableClient(tablePrefix + "entries");

    /// <summary>The <c>chains</c> table: head hints (PK <see cref="HeadsPartition"/>) and what capabilities record per chain.</summary>
    public ITableClient Heads { get; } = service.GetTableClient(tablePrefix + "chains");

    public ITableClient ProducerKeys { get; } = service.GetTableClient(tablePrefix + "producerkeys");

    public ITableClient Cosignatures { get; } = service.GetTableClient(tablePrefix + "cosignatures");

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        foreach (var table in new[] { Blocks, Entries, Heads, ProducerKeys, Cosignatures })
        {
            await table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public static string HeightKey(long height) => height.ToString("D19", CultureInfo.InvariantCulture);

    public static string EntriesPartition(string chainId, long height, Hash32 blockHash) =>
        $"{chainId}:{HeightKey(height)}:{blockHash.ToHex()[..32]}";

    public static string LeafKey(long leafIndex) => leafIndex.ToString("D10", CultureInfo.InvariantCulture);
}
