using System.Globalization;
using Btmc.Platform.Tables;

namespace Btmc.Chains;

/// <summary>A checkpoint a witness cosigned: the whole note (text, the producer's signature, the witness's cosignature).</summary>
public sealed record CosignedCheckpoint(string ChainId, string Witness, uint KeyId, long Size, DateTimeOffset Time, string Note);

/// <summary>
/// The cosignatures witnesses posted, per chain (the <c>cosignatures</c> table, <see cref="ChainTables"/>): every
/// cosigned size, so a receipt can carry the first cosigned checkpoint that covers its event, and each witness's
/// largest, so the backend can check on start that it is not behind what witnesses saw (rollback refusal).
/// The caller verifies a cosignature before recording it.
/// </summary>
public sealed class WitnessCosignatures(ChainTables tables)
{
    private const string LatestSuffix = "latest";

    /// <summary>Records a verified cosignature; idempotent. The witness's latest moves only forward.</summary>
    public async Task RecordAsync(CosignedCheckpoint cosigned, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cosigned);
        await tables.Cosignatures.UpsertEntityAsync(ToRow(cosigned, SizeKey(cosigned.KeyId, cosigned.Size)), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        var latest = await tables.Cosignatures.GetEntityIfExistsAsync(cosigned.ChainId, LatestKey(cosigned.KeyId), cancellationToken).ConfigureAwait(false);
        if (latest is null || latest.GetInt64("Size") <= cosigned.Size)
        {
            await tables.Cosignatures.UpsertEntityAsync(ToRow(cosigned, LatestKey(cosigned.KeyId)), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Each witness's largest cosigned checkpoint of the chain.</summary>
    public async Task<IReadOnlyList<CosignedCheckpoint>> LatestAsync(string chainId, CancellationToken cancellationToken = default)
    {
        var latest = new List<CosignedCheckpoint>();
        await foreach (var row in tables.Cosignatures.QueryAllAsync(new TableQuery(chainId), cancellationToken).ConfigureAwait(false))
        {
            if (row.RowKey.EndsWith("-" + LatestSuffix, StringComparison.Ordinal))
            {
                latest.Add(FromRow(row));
            }
        }

        return latest;
    }

    /// <summary>The smallest checkpoint of at least <paramref name="size"/> entries that the witness with <paramref name="keyId"/> cosigned; null when none.</summary>
    public async Task<CosignedCheckpoint?> FirstCoveringAsync(string chainId, uint keyId, long size, CancellationToken cancellationToken = default)
    {
        var query = new TableQuery(chainId, SizeKey(keyId, size), $"{keyId:x8}-:", MaxPerPage: 1);
        var page = await tables.Cosignatures.QueryAsync(query, cancellationToken).ConfigureAwait(false);
        return page.Items.Count == 0 ? null : FromRow(page.Items[0]);
    }

    private static string SizeKey(uint keyId, long size) => $"{keyId:x8}-{size.ToString("D19", CultureInfo.InvariantCulture)}";

    private static string LatestKey(uint keyId) => $"{keyId:x8}-{LatestSuffix}";

    private static TableEntity ToRow(CosignedCheckpoint c, string rowKey) => new(c.ChainId, rowKey, new Dictionary<string, object>
    {
        ["Witness"] = c.Witness,
        ["KeyId"] = (long)c.KeyId,
        ["Size"] = c.Size,
        ["Time"] = c.Time,
        ["Note"] = c.Note,
    });

    private static CosignedCheckpoint FromRow(TableEntity row) => new(
        row.PartitionKey, row.GetString("Witness"), (uint)row.GetInt64("KeyId"), row.GetInt64("Size"), (DateTimeOffset)row.Properties["Time"], row.GetString("Note"));
}
