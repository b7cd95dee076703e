using Btmc.Ledger;
using Btmc.Ledger.Dpos;

namespace Btmc.Chains;

/// <summary>
/// The verdict on one chain: how far it verified, and the first bad block if any. An audit that started after a
/// trusted block (<see cref="ChainStart"/>) counts only the blocks and entries after it: <see cref="FromHeight"/> is
/// the first height it verified and <see cref="FromSize"/> the trusted checkpoint's size (both 0 for a whole chain).
/// </summary>
public sealed record ChainAudit(string ChainId, long Blocks, long Entries, string? HeadHash, ChainFault? Fault, long FromHeight = 0, long FromSize = 0)
{
    public bool IsValid => Fault is null;
}

/// <summary>
/// Where an audit of a chain starts when it does not start at block 0: after <paramref name="Trusted"/>, a stored block
/// whose checkpoint the auditor trusts (its frontier folds to the trusted root), with the signature of the chain's last
/// block before the trusted block's round to resume the producer schedule (<see cref="ChainVerifier.ResumeAfter"/>).
/// </summary>
public sealed record ChainStart(StoredBlock Trusted, MerkleFrontier Frontier, byte[] RoundSeedSignature);

/// <summary>The verdict on every chain of the ledger.</summary>
public sealed record LedgerAudit(IReadOnlyList<ChainAudit> Chains)
{
    public bool IsValid => Chains.All(c => c.IsValid);
}

/// <summary>
/// What a capability checks of one stored entry before its leaf is trusted: null when the stored content is exactly
/// what was sealed (it hashes to the entry's hash, names the entry's id), else why not.
/// </summary>
public delegate string? ChainEntryCheck(StoredEntry entry);

/// <summary>Entry checks every chain of records can use.</summary>
public static class ChainEntryChecks
{
    /// <summary>The stored record's bytes hash (SHA-256) to the entry's hash: chains of JSON records (governance, compute).</summary>
    public static string? RecordHash(StoredEntry entry) =>
        Hash32.Compute(entry.Event.Span) == entry.EventHash ? null : "the stored record does not hash to its entry's hash";
}

/// <summary>
/// Re-derives a chain from the stored data and checks it: each entry with the capability's check, the leaves and
/// Merkle root, the header encoding, links, heights, and each block's slot, producer and signature under the
/// producer schedule. Names the first bad block and why.
/// </summary>
public sealed class ChainAuditor(ChainReader reader)
{
    /// <param name="chainIds">The chains to audit, all with the same kind of entries.</param>
    /// <param name="rules">The producer schedule, as an audit of the governance chain re-derived it.</param>
    /// <param name="check">What the capability that wrote the chains checks of each stored entry.</param>
    /// <param name="cancellationToken">Stops the audit.</param>
    public Task<IReadOnlyList<ChainAudit>> AuditAsync(IEnumerable<string> chainIds, DposRules rules, ChainEntryCheck check, CancellationToken cancellationToken = default) =>
        AuditAsync(chainIds, rules, check, null, cancellationToken);

    /// <param name="chainIds">The chains to audit, all with the same kind of entries.</param>
    /// <param name="rules">The producer schedule, as an audit of the governance chain re-derived it.</param>
    /// <param name="check">What the capability that wrote the chains checks of each stored entry.</param>
    /// <param name="starts">Chains to audit only after a trusted block; the others from block 0.</param>
    /// <param name="cancellationToken">Stops the audit.</param>
    public async Task<IReadOnlyList<ChainAudit>> AuditAsync(IEnumerable<string> chainIds, DposRules rules, ChainEntryCheck check, IReadOnlyDictionary<string, ChainStart>? starts, CancellationToken cancellationToken = default)
    {
        var audits = new List<ChainAudit>();
        foreach (var chainId in chainIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            audits.Add(await AuditChainAsync(chainId, rules, check, starts?.GetValueOrDefault(chainId), cancellationToken).ConfigureAwait(false));
        }

        return audits;
    }

    public Task<ChainAudit> AuditChainAsync(string chainId, DposRules rules, ChainEntryCheck check, CancellationToken cancellationToken = default) =>
        AuditChainAsync(chainId, rules, check, null, cancellationToken);

    /// <summary>Audits one chain from block 0, or only after <paramref name="start"/>'s trusted block.</summary>
    public async Task<ChainAudit> AuditChainAsync(string chainId, DposRules rules, ChainEntryCheck check, ChainStart? start, CancellationToken cancellationToken = default)
    {
        var verifier = new ChainVerifier(chainId, rules);
        var fromHeight = 0L;
        if (start is not null)
        {
            var trusted = start.Trusted;
            try
            {
                verifier.ResumeAfter(trusted.Header, trusted.BlockHash, trusted.Signature, start.RoundSeedSignature);
            }
            catch (ArgumentException ex)
            {
                return new ChainAudit(chainId, 0, 0, null, new ChainFault(chainId, trusted.Header.Height, $"cannot resume after the trusted block: {ex.Message}"), trusted.Header.Height + 1, start.Frontier.Size);
            }

            fromHeight = trusted.Header.Height + 1;
        }

        var trail = new CheckpointTrail(new ChainCheckpoints(reader), chainId, start?.Frontier);
        ChainAudit Verdict(long entries, ChainFault? fault) =>
            new(chainId, verifier.VerifiedBlocks - fromHeight, entries, verifier.HeadHash?.ToHex(), fault, fromHeight, start?.Frontier.Size ?? 0);
        long entries = 0;
        await foreach (var block in reader.ReadBlocksAsync(chainId, fromHeight, cancellationToken).ConfigureAwait(false))
        {
            var stored = await reader.ReadEntriesAsync(chainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
            var leaves = new Hash32[stored.Count];
            ChainFault? fault = null;
            for (var i = 0; i < stored.Count; i++)
            {
                var entry = stored[i];
                if (check(entry) is { } reason)
                {
                    fault = new ChainFault(chainId, block.Header.Height, $"entry {entry.LeafIndex} ({entry.EventId}): {reason}");
                    break;
                }

                try
                {
                    leaves[i] = entry.Leaf.ComputeLeafHash();
                }
                catch (ArgumentException ex)
                {
                    fault = new ChainFault(chainId, block.Header.Height, $"entry {entry.LeafIndex} ({entry.EventId}): {ex.Message}");
                    break;
                }
            }

            fault ??= verifier.Append(new SealedBlock(block.Header, block.Signature, leaves));
            if (fault is null && await trail.AppendAsync(block, leaves, cancellationToken).ConfigureAwait(false) is { } checkpointFault)
            {
                fault = new ChainFault(chainId, block.Header.Height, checkpointFault);
            }

            if (fault is not null)
            {
                return Verdict(entries, fault);
            }

            entries += stored.Count;
        }

        return Verdict(entries, null);
    }
}
