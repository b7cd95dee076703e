using System.Text.Json;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Tables;

namespace Btmc.Supply;

/// <summary>The verdict on one chain: how far it verified, and the first bad block if any.</summary>
public sealed record ChainAudit(string ChainId, long Blocks, long Entries, string? HeadHash, ChainFault? Fault)
{
    public bool IsValid => Fault is null;
}

/// <summary>The verdict on every chain of the ledger.</summary>
public sealed record LedgerAudit(IReadOnlyList<ChainAudit> Chains)
{
    public bool IsValid => Chains.All(c => c.IsValid);
}

/// <summary>
/// Re-derives every supply chain from the stored data and checks it: each entry's event hash from the stored event,
/// the leaves and Merkle root, the header encoding, links, heights, and each block's slot, producer and signature under
/// the producer schedule. Names the first bad block of each chain and why.
/// </summary>
public sealed class ChainAuditor(LedgerReader reader)
{
    /// <param name="chainIds">The supply chains to audit.</param>
    /// <param name="rules">The producer schedule, as an audit of the governance chain re-derived it.</param>
    public async Task<LedgerAudit> AuditAsync(IEnumerable<string> chainIds, DposRules rules, CancellationToken cancellationToken = default)
    {
        var audits = new List<ChainAudit>();
        foreach (var chainId in chainIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            audits.Add(await AuditChainAsync(chainId, rules, cancellationToken).ConfigureAwait(false));
        }

        return new LedgerAudit(audits);
    }

    /// <summary>The chains the chains table knows of, with the given ones.</summary>
    public async Task<IReadOnlyList<string>> KnownChainsAsync(IEnumerable<string> alsoCheck, CancellationToken cancellationToken = default)
    {
        var page = await reader.Tables.Chains.QueryAsync(new TableQuery(LedgerTables.ChainsPartition, null, null, 1000), cancellationToken).ConfigureAwait(false);
        var known = page.Items.Select(r => r.RowKey).ToHashSet(StringComparer.Ordinal);
        foreach (var chainId in alsoCheck)
        {
            if (await reader.GetBlockAsync(chainId, 0, cancellationToken).ConfigureAwait(false) is not null)
            {
                known.Add(chainId);
            }
        }

        return known.Order(StringComparer.Ordinal).ToList();
    }

    private async Task<ChainAudit> AuditChainAsync(string chainId, DposRules rules, CancellationToken cancellationToken)
    {
        var verifier = new ChainVerifier(chainId, rules);
        long entries = 0;
        await foreach (var block in reader.ReadBlocksAsync(chainId, cancellationToken).ConfigureAwait(false))
        {
            var stored = await reader.ReadEntriesAsync(chainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
            var leaves = new Hash32[stored.Count];
            ChainFault? entryFault = null;
            for (var i = 0; i < stored.Count && entryFault is null; i++)
            {
                var entry = stored[i];
                if (!TryHashEvent(entry.Event, out var eventHash, out var ledgerId))
                {
                    entryFault = new ChainFault(chainId, block.Header.Height, $"entry {entry.LeafIndex} ({entry.EventId}): the stored event is not a readable EPCIS event");
                    break;
                }

                if (eventHash != entry.EventHash)
                {
                    entryFault = new ChainFault(chainId, block.Header.Height, $"entry {entry.LeafIndex} ({entry.EventId}): the stored event hashes to {eventHash.ToHex()[..16]}.., the entry records {entry.EventHash.ToHex()[..16]}..");
                    break;
                }

                if (ledgerId != entry.EventId)
                {
                    entryFault = new ChainFault(chainId, block.Header.Height, $"entry {entry.LeafIndex} ({entry.EventId}): the stored event's own identity is {ledgerId}");
                    break;
                }

                leaves[i] = new LedgerEntry(entry.EventId, eventHash, entry.Partner).ComputeLeafHash();
            }

            var fault = entryFault ?? verifier.Append(new SealedBlock(block.Header, block.Signature, leaves));
            if (fault is not null)
            {
                return new ChainAudit(chainId, verifier.VerifiedBlocks, entries, verifier.HeadHash?.ToHex(), fault);
            }

            entries += stored.Count;
        }

        return new ChainAudit(chainId, verifier.VerifiedBlocks, entries, verifier.HeadHash?.ToHex(), null);
    }

    /// <summary>The content hash and ledger id a stored event's bytes give; false when they are not a readable stored event.</summary>
    internal static bool TryHashEvent(ReadOnlyMemory<byte> json, out Hash32 hash, out string ledgerId)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            hash = EventCanonicalForm.ComputeHash(document.RootElement);
            ledgerId = StoredEvent.LedgerId(document.RootElement);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            hash = default;
            ledgerId = string.Empty;
            return false;
        }
    }
}
