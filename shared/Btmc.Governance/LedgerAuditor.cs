using Btmc.Chains;
using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>
/// Audits the whole ledger from the stored data alone: first the governance chain — every block under the producer
/// schedule, every record re-hashed and replayed under the governance rules, so every approval and vote signature is
/// checked again — then every supply chain under the schedule that replay re-derives. Names the first bad block of
/// each chain and why. What a supply entry must be is the supply capability's to say: it comes as a
/// <see cref="ChainEntryCheck"/>, so that governance does not depend on supply.
/// </summary>
public sealed class LedgerAuditor(ChainReader reader)
{
    /// <param name="supplyChainIds">The supply chains, audited with <paramref name="supplyEntries"/>; every other chain
    /// but governance is a chain of JSON records (<see cref="ChainEntryChecks.RecordHash"/>).</param>
    /// <param name="supplyEntries">The supply capability's check of a stored event; needed when there are supply chains.</param>
    public Task<LedgerAudit> AuditAsync(IEnumerable<string> supplyChainIds, ChainEntryCheck? supplyEntries = null, CancellationToken cancellationToken = default) =>
        AuditAsync(supplyChainIds, supplyEntries, null, cancellationToken);

    /// <param name="supplyChainIds">The supply chains, audited with <paramref name="supplyEntries"/>; every other chain
    /// but governance is a chain of JSON records (<see cref="ChainEntryChecks.RecordHash"/>).</param>
    /// <param name="supplyEntries">The supply capability's check of a stored event; needed when there are supply chains.</param>
    /// <param name="starts">Chains other than governance to audit only after a trusted block (a daily audit that
    /// costs the day's growth); governance is always audited whole, because its replay gives the producer schedule.</param>
    /// <param name="cancellationToken">Stops the audit.</param>
    public async Task<LedgerAudit> AuditAsync(IEnumerable<string> supplyChainIds, ChainEntryCheck? supplyEntries, IReadOnlyDictionary<string, ChainStart>? starts, CancellationToken cancellationToken = default)
    {
        var (governance, replay) = await AuditGovernanceAsync(cancellationToken).ConfigureAwait(false);
        var audits = new List<ChainAudit> { governance };
        var supply = supplyChainIds.ToHashSet(StringComparer.Ordinal);
        var chains = await reader.KnownChainsAsync(supply, cancellationToken).ConfigureAwait(false);
        chains = chains.Where(c => c != GovernanceReplay.ChainId).ToList();
        if (replay.Rules is { } rules)
        {
            var auditor = new ChainAuditor(reader);
            if (supply.Count > 0)
            {
                ArgumentNullException.ThrowIfNull(supplyEntries);
                audits.AddRange(await auditor.AuditAsync(chains.Where(supply.Contains), rules, supplyEntries, starts, cancellationToken).ConfigureAwait(false));
            }

            audits.AddRange(await auditor.AuditAsync(chains.Where(c => !supply.Contains(c)), rules, ChainEntryChecks.RecordHash, starts, cancellationToken).ConfigureAwait(false));

            audits = audits.Take(1).Concat(audits.Skip(1).OrderBy(a => a.ChainId, StringComparer.Ordinal)).ToList();
        }
        else
        {
            foreach (var chainId in chains)
            {
                audits.Add(new ChainAudit(chainId, 0, 0, null, new ChainFault(chainId, 0, "the governance chain has no valid genesis, so the producer schedule is unknown")));
            }
        }

        return new LedgerAudit(audits);
    }

    /// <summary>The governance chain's verdict, and the replay of its valid prefix.</summary>
    public async Task<(ChainAudit Audit, GovernanceReplay Replay)> AuditGovernanceAsync(CancellationToken cancellationToken = default)
    {
        const string ChainId = GovernanceReplay.ChainId;
        var replay = new GovernanceReplay();
        ChainVerifier? verifier = null;
        var trail = new CheckpointTrail(new ChainCheckpoints(reader), ChainId);
        long entries = 0;
        ChainAudit Fail(long height, string reason) =>
            new(ChainId, verifier?.VerifiedBlocks ?? 0, entries, verifier?.HeadHash?.ToHex(), new ChainFault(ChainId, height, reason));

        await foreach (var block in reader.ReadBlocksAsync(ChainId, cancellationToken).ConfigureAwait(false))
        {
            var height = block.Header.Height;
            var stored = await reader.ReadEntriesAsync(ChainId, height, block.BlockHash, block.Header.LeafCount, withEvents: true, cancellationToken).ConfigureAwait(false);
            var leaves = new Hash32[stored.Count];
            var records = new List<GovernanceRecord>(stored.Count);
            foreach (var entry in stored)
            {
                GovernanceRecord record;
                try
                {
                    record = GovernanceRecord.FromJson(entry.Event.Span);
                }
                catch (FormatException ex)
                {
                    return (Fail(height, $"entry {entry.LeafIndex} ({entry.EventId}): {ex.Message}"), replay);
                }

                var hash = Hash32.Compute(entry.Event.Span);
                if (hash != entry.EventHash || record.RecordId != entry.EventId || record.Actor != entry.Partner)
                {
                    return (Fail(height, $"entry {entry.LeafIndex} ({entry.EventId}): the stored record does not match its entry (hash, id or actor)"), replay);
                }

                leaves[entry.LeafIndex] = new LedgerEntry(entry.EventId, hash, entry.Partner).ComputeLeafHash();
                records.Add(record);
            }

            try
            {
                if (verifier is null)
                {
                    if (records is not [GenesisRecord])
                    {
                        return (Fail(height, "the first governance block must hold the genesis record alone"), replay);
                    }

                    replay.ApplyBlock(block.Header.SlotTime, records);
                    verifier = new ChainVerifier(ChainId, replay.Rules!);
                    if (verifier.Append(new SealedBlock(block.Header, block.Signature, leaves)) is { } fault)
                    {
                        return (Fail(fault.Height, fault.Reason), new GovernanceReplay());
                    }
                }
                else
                {
                    if (verifier.Append(new SealedBlock(block.Header, block.Signature, leaves)) is { } fault)
                    {
                        return (Fail(fault.Height, fault.Reason), replay);
                    }

                    replay.ApplyBlock(block.Header.SlotTime, records);
                }

                if (await trail.AppendAsync(block, leaves, cancellationToken).ConfigureAwait(false) is { } checkpointFault)
                {
                    return (Fail(height, checkpointFault), replay);
                }
            }
            catch (Refused ex)
            {
                return (Fail(height, $"a record breaks the governance rules: {ex.Message}"), replay);
            }

            entries += stored.Count;
        }

        return (new ChainAudit(ChainId, verifier?.VerifiedBlocks ?? 0, entries, verifier?.HeadHash?.ToHex(), null), replay);
    }
}
