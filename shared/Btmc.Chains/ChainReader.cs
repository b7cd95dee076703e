using System.Collections.Concurrent;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Platform.Tables;

namespace Btmc.Chains;

/// <summary>
/// One entry of a block as stored, with the partner's capture signature when the capture was signed. A copy downloaded
/// for independent verification (<c>btmc verify-chain --url</c>, <c>btmc export</c>) holds leaf material only: no
/// event body, no capture id (empty), and the capture attestation itself (<paramref name="Attestation"/>) instead of
/// the signature it is derived from.
/// </summary>
public sealed record StoredEntry(long LeafIndex, string EventId, Hash32 EventHash, ReadOnlyMemory<byte> Event, string CaptureId, string Partner, DateTimeOffset ReceivedAt, SignedCapture? Signed = null, Hash32? Attestation = null)
{
    /// <summary>The ledger leaf: format 0x03 with the capture attestation when signed, else 0x02.</summary>
    /// <exception cref="ArgumentException">The stored signature is malformed (a damaged row).</exception>
    public LedgerEntry Leaf => new(EventId, EventHash, Partner, Signed?.ComputeAttestation() ?? Attestation);
}

/// <summary>
/// One committed block as stored: the signed header, and beside it the log range it consumed ([<see cref="LogFrom"/>,
/// <see cref="LogTo"/>) of the event log <see cref="LogId"/>), the chain's entry count up to and including it, and when
/// the row was committed; and, for blocks sealed since checkpoints exist, the frontier of the chain-wide tree after the
/// block and the checkpoint the block's producer signed for it (<see cref="ChainCheckpoints"/>).
/// </summary>
public sealed record StoredBlock(BlockHeader Header, byte[] Signature, Hash32 BlockHash, long LogFrom, long LogTo, long? TotalEntries = null, string? LogId = null, DateTimeOffset? CommittedAt = null, byte[]? Frontier = null, string? Checkpoint = null);

/// <summary>Reading any chain's blocks, entries, head and producer keys from the <see cref="ChainTables"/>.</summary>
public sealed class ChainReader(ChainTables tables)
{
    private readonly ConcurrentDictionary<string, EcPublicJwk> _keys = new(StringComparer.Ordinal);

    public ChainTables Tables => tables;

    /// <summary>
    /// The chain's last committed block, read from the block rows. The head hint only says which height to look at
    /// first: a hint that is behind (written before a crash), ahead (restored from another backup than the blocks) or
    /// wrong must not move the head, because the head decides the next height and the log position sealing resumes
    /// from. Block rows are contiguous from height 0 (the row insert is the commit), so the last one is found by
    /// probing from the hinted height: forward in doubling steps, back by halving (a few reads when the hint is
    /// right, O(log n) when it is wrong).
    /// </summary>
    public async Task<ChainHead?> FindHeadAsync(string chainId, CancellationToken cancellationToken = default)
    {
        var hint = await tables.Heads.GetEntityIfExistsAsync(ChainTables.HeadsPartition, chainId, cancellationToken).ConfigureAwait(false);
        var hinted = hint?.Properties.TryGetValue("Height", out var h) == true && h is long height && height >= 0 ? height : -1;

        // Invariant: height `known` exists (or is -1, before the chain) and height `missing` does not.
        var known = -1L;
        StoredBlock? last = null;
        long missing;
        if (hinted >= 0 && await GetBlockAsync(chainId, hinted, cancellationToken).ConfigureAwait(false) is { } atHint)
        {
            (known, last) = (hinted, atHint);
            missing = -1;
        }
        else
        {
            missing = hinted >= 0 ? hinted : -1;
        }

        if (missing < 0)
        {
            for (var step = 1L; ; step *= 2)
            {
                if (await GetBlockAsync(chainId, known + step, cancellationToken).ConfigureAwait(false) is not { } ahead)
                {
                    missing = known + step;
                    break;
                }

                (known, last) = (known + step, ahead);
            }
        }

        while (missing - known > 1)
        {
            var middle = known + ((missing - known) / 2);
            if (await GetBlockAsync(chainId, middle, cancellationToken).ConfigureAwait(false) is { } found)
            {
                (known, last) = (middle, found);
            }
            else
            {
                missing = middle;
            }
        }

        return last is null ? null : new ChainHead(chainId, last.Header.Height, last.BlockHash, last.Header.LeafCount, last.LogTo,
            last.TotalEntries ?? await CountEntriesAsync(chainId, last.Header.Height, cancellationToken).ConfigureAwait(false), last.LogId);
    }

    /// <summary>The entries of blocks 0 to <paramref name="height"/>, added up: for block rows written before they carried the count.</summary>
    private async Task<long> CountEntriesAsync(string chainId, long height, CancellationToken cancellationToken)
    {
        long total = 0;
        await foreach (var block in ReadBlocksAsync(chainId, cancellationToken).ConfigureAwait(false))
        {
            if (block.Header.Height > height)
            {
                break;
            }

            total += block.Header.LeafCount;
        }

        return total;
    }

    /// <summary>The chains the chains table holds a head hint for, with those of <paramref name="alsoCheck"/> that have a block 0.</summary>
    public async Task<IReadOnlyList<string>> KnownChainsAsync(IEnumerable<string> alsoCheck, CancellationToken cancellationToken = default)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in tables.Heads.QueryAllAsync(new TableQuery(ChainTables.HeadsPartition), cancellationToken).ConfigureAwait(false))
        {
            known.Add(row.RowKey);
        }

        foreach (var chainId in alsoCheck)
        {
            if (await GetBlockAsync(chainId, 0, cancellationToken).ConfigureAwait(false) is not null)
            {
                known.Add(chainId);
            }
        }

        return known.Order(StringComparer.Ordinal).ToList();
    }

    public async Task<StoredBlock?> GetBlockAsync(string chainId, long height, CancellationToken cancellationToken = default)
    {
        if (height < 0)
        {
            return null;
        }

        var row = await tables.Blocks.GetEntityIfExistsAsync(chainId, ChainTables.HeightKey(height), cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToBlock(row);
    }

    /// <summary>Blocks of a chain in height order, a page at a time.</summary>
    public IAsyncEnumerable<StoredBlock> ReadBlocksAsync(string chainId, CancellationToken cancellationToken = default) =>
        ReadBlocksAsync(chainId, 0, cancellationToken);

    /// <summary>Blocks of a chain from <paramref name="fromHeight"/> on, in height order, a page at a time.</summary>
    public async IAsyncEnumerable<StoredBlock> ReadBlocksAsync(string chainId, long fromHeight, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = fromHeight > 0 ? new TableQuery(chainId, ChainTables.HeightKey(fromHeight)) : new TableQuery(chainId);
        await foreach (var row in tables.Blocks.QueryAllAsync(query, cancellationToken).ConfigureAwait(false))
        {
            yield return ToBlock(row);
        }
    }

    /// <summary>The first <paramref name="leafCount"/> entries of a block, in leaf order.</summary>
    public async Task<IReadOnlyList<StoredEntry>> ReadEntriesAsync(string chainId, long height, Hash32 blockHash, long leafCount, bool withEvents, CancellationToken cancellationToken = default)
    {
        var entries = new List<StoredEntry>((int)Math.Min(leafCount, 100_000));
        var select = withEvents ? null : new[] { "EventId", "EventHash", "CaptureId", "Partner", "ReceivedAt", DocumentSha256Property, SignatureProperty, SigningKeyProperty, AttestationProperty };
        var query = new TableQuery(ChainTables.EntriesPartition(chainId, height, blockHash), null, ChainTables.LeafKey(leafCount), Select: select);
        await foreach (var row in tables.Entries.QueryAllAsync(query, cancellationToken).ConfigureAwait(false))
        {
            entries.Add(ToEntry(row));
        }

        return entries;
    }

    /// <summary>One entry of a committed block, with its stored event or record; null when the row is missing.</summary>
    public async Task<StoredEntry?> GetEntryAsync(string chainId, long height, Hash32 blockHash, long leafIndex, CancellationToken cancellationToken = default)
    {
        var row = await tables.Entries.GetEntityIfExistsAsync(ChainTables.EntriesPartition(chainId, height, blockHash), ChainTables.LeafKey(leafIndex), cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToEntry(row);
    }

    public async Task<EcPublicJwk?> GetProducerKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        if (_keys.TryGetValue(keyId, out var cached))
        {
            return cached;
        }

        var row = await tables.ProducerKeys.GetEntityIfExistsAsync(ChainTables.KeysPartition, keyId, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var key = JsonSerializer.Deserialize<EcPublicJwk>(row.GetString("Jwk")) ?? throw new InvalidOperationException($"Producer key {keyId} is stored empty.");
        return _keys.GetOrAdd(keyId, key);
    }

    private static StoredBlock ToBlock(TableEntity row)
    {
        var header = BlockHeader.Decode(row.GetBinary("Header"));
        return new StoredBlock(header, row.GetBinary("Signature"), header.ComputeHash(), row.GetInt64("LogFrom"), row.GetInt64("LogTo"),
            row.Properties.ContainsKey("TotalEntries") ? row.GetInt64("TotalEntries") : null,
            row.Properties.TryGetValue("LogId", out var logId) ? logId as string : null, row.Timestamp,
            row.Properties.GetValueOrDefault(ChainCheckpoints.FrontierProperty) as byte[], row.Properties.GetValueOrDefault(ChainCheckpoints.CheckpointProperty) as string);
    }

    private static StoredEntry ToEntry(TableEntity row) => new(
        long.Parse(row.RowKey, System.Globalization.CultureInfo.InvariantCulture),
        row.GetString("EventId"),
        new Hash32(row.GetBinary("EventHash")),
        row.Properties.TryGetValue("Event", out var evt) ? (byte[])evt : ReadOnlyMemory<byte>.Empty,
        row.Properties.GetValueOrDefault("CaptureId") as string ?? string.Empty,
        row.GetString("Partner"),
        (DateTimeOffset)row.Properties["ReceivedAt"],
        ReadSignature(row),
        row.Properties.GetValueOrDefault(AttestationProperty) is byte[] attestation ? new Hash32(attestation) : null);

    /// <summary>
    /// The row property of a downloaded copy's entry that holds the capture attestation (binary) in place of the
    /// capture signature: what the leaf commits to, without the partner's JWS.
    /// </summary>
    public const string AttestationProperty = "CaptureAttestation";

    /// <summary>The row properties of a capture signature: the document hash (binary), the JWS and the key (JWK JSON).</summary>
    public const string DocumentSha256Property = "DocumentSha256";

    /// <inheritdoc cref="DocumentSha256Property"/>
    public const string SignatureProperty = "Signature";

    /// <inheritdoc cref="DocumentSha256Property"/>
    public const string SigningKeyProperty = "SigningKey";

    /// <summary>Adds a capture signature's properties to a row (an entry row, a capture's summary row).</summary>
    public static void WriteSignature(IDictionary<string, object> properties, SignedCapture signed)
    {
        properties[DocumentSha256Property] = signed.DocumentSha256.ToArray();
        properties[SignatureProperty] = signed.Jws;
        properties[SigningKeyProperty] = JsonSerializer.Serialize(signed.SigningKey);
    }

    /// <summary>The capture signature a row holds, or null when it holds none (an unsigned capture).</summary>
    /// <exception cref="InvalidDataException">The row holds part of a signature, or a malformed one.</exception>
    public static SignedCapture? ReadSignature(TableEntity row)
    {
        var hash = row.Properties.GetValueOrDefault(DocumentSha256Property) as byte[];
        var jws = row.Properties.GetValueOrDefault(SignatureProperty) as string;
        var key = row.Properties.GetValueOrDefault(SigningKeyProperty) as string;
        if (hash is null && jws is null && key is null)
        {
            return null;
        }

        try
        {
            return hash is { Length: Hash32.Size } && jws is not null && key is not null && JsonSerializer.Deserialize<EcPublicJwk>(key) is { } jwk
                ? new SignedCapture(new Hash32(hash), jws, jwk)
                : throw new InvalidDataException($"Row {row.PartitionKey}/{row.RowKey} holds an incomplete capture signature.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Row {row.PartitionKey}/{row.RowKey} holds an unreadable signing key.", ex);
        }
    }
}
