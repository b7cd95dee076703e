using System.Text;
using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Xunit;

namespace Btmc.Governance.Tests;

public sealed class LedgerAuditorTests : IDisposable
{
    private const string ChainId = GovernanceReplay.ChainId;

    private readonly GovernanceHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task AuditGovernanceAsync_ChainAsSealed_IsValidAndReplaysTheState()
    {
        var (ledger, account) = await StartWithAllocationAsync();

        var (audit, replay) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();

        Assert.True(audit.IsValid, audit.Fault?.Reason);
        Assert.Equal((await _harness.ReadChainAsync()).Count, audit.Blocks);
        Assert.Equal(ledger.Head!.BlockHash.ToHex(), audit.HeadHash);
        Assert.Equal(ledger.Head.TotalEntries, audit.Entries);
        Assert.Equal(77, replay.State.Holdings[account]);
    }

    [Fact]
    public async Task AuditAsync_LedgerWithOnlyTheGovernanceChain_IsValid()
    {
        await StartWithAllocationAsync();

        var audit = await new LedgerAuditor(_harness.Store().Reader).AuditAsync([]);

        Assert.True(audit.IsValid);
        Assert.Equal([ChainId], audit.Chains.Select(c => c.ChainId));
    }

    [Fact]
    public async Task AuditGovernanceAsync_TamperedRecord_FaultsNamingTheBlock()
    {
        await StartWithAllocationAsync();
        var height = await HeightOfAsync(r => r is ProposalRecord);
        var original = await ReadEventAsync(height, 0);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(original).Replace("amount: 77", "amount: 99", StringComparison.Ordinal));
        Assert.NotEqual(original, tampered);

        await ChangeEventAsync(height, 0, tampered);
        var (audit, replay) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();

        Assert.False(audit.IsValid);
        Assert.Equal(ChainId, audit.Fault!.ChainId);
        Assert.Equal(height, audit.Fault.Height);
        Assert.Equal(height, audit.Blocks);
        Assert.Contains("entry 0 (governance:proposal:", audit.Fault.Reason, StringComparison.Ordinal);
        Assert.Contains("does not match its entry", audit.Fault.Reason, StringComparison.Ordinal);
        Assert.Empty(replay.State.Proposals);
    }

    [Fact]
    public async Task AuditGovernanceAsync_SameRecordWrittenWithOtherBytes_FaultsOnTheEntryHash()
    {
        // The entry seals the record's exact bytes: the same record with a space added still fails, though its id and
        // actor are unchanged.
        await StartWithAllocationAsync();
        var height = await HeightOfAsync(r => r is ExecutionRecord);
        var original = await ReadEventAsync(height, 1);
        var respaced = Encoding.UTF8.GetBytes(" " + Encoding.UTF8.GetString(original));
        Assert.Equal(GovernanceRecord.FromJson(original).RecordId, GovernanceRecord.FromJson(respaced).RecordId);

        await ChangeEventAsync(height, 1, respaced);
        var (audit, _) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();

        Assert.Equal(height, audit.Fault!.Height);
        Assert.Contains("entry 1 (governance:execution:", audit.Fault.Reason, StringComparison.Ordinal);
        Assert.Contains("does not match its entry", audit.Fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditGovernanceAsync_RecordReplacedWithUnreadableBytes_FaultsNamingTheBlockAndEntry()
    {
        await StartWithAllocationAsync();
        var height = await HeightOfAsync(r => r is ExecutionRecord);

        await ChangeEventAsync(height, 1, Encoding.UTF8.GetBytes("{\"type\":\"mint\"}"));
        var (audit, _) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();

        Assert.Equal(height, audit.Fault!.Height);
        Assert.Contains("entry 1 (governance:execution:", audit.Fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditGovernanceAsync_RecordAndEntryHashBothReplaced_FaultsOnTheMerkleRoot()
    {
        // Another valid signature by the same member (ECDSA signatures are randomised) with its entry hash updated:
        // the entry matches its record, but not the leaf the block sealed.
        var (ledger, _) = await StartWithAllocationAsync();
        var height = await HeightOfAsync(r => r is ApprovalRecord { Member: "bob" });
        var approval = (ApprovalRecord)GovernanceRecord.FromJson(await ReadEventAsync(height, 0));
        var payload = ledger.State.Proposals[approval.Proposal].Payload;
        var resigned = (approval with { Signature = _harness.Signature(payload, "bob") }).ToJson();

        await ChangeEventAsync(height, 0, resigned, Hash32.Compute(resigned));
        var (audit, _) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();

        Assert.Equal(height, audit.Fault!.Height);
        Assert.Contains("merkle root mismatch", audit.Fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditGovernanceAsync_BlockResignedByAProducerOutsideItsSlot_FaultsNamingTheBlockAndTheSlotsProducer()
    {
        await StartWithAllocationAsync();
        var chain = await _harness.ReadChainAsync();
        var last = chain[^1].Block;
        var owner = last.Header.ProducerId;
        var intruder = _harness.Producers.First(p => p.Producer != owner);

        var (header, signature) = await ResealAsync(last.Header.Height, records: null, intruder);
        var (audit, _) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();

        Assert.True(BlockSignature.Verify(intruder.Key.PublicKey, header.ComputeHash(), signature), "the forged block is properly signed by the intruder");
        Assert.False(audit.IsValid);
        Assert.Equal(last.Header.Height, audit.Fault!.Height);
        Assert.Contains($"belongs to producer '{owner}', but the block names '{intruder.Producer}'", audit.Fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditGovernanceAsync_ForgedApprovalSealedByTheSlotsOwnProducer_FaultsNamingTheRule()
    {
        // Even the producer that owns the slot cannot seal a record the rules refuse: the audit replays every record.
        var (ledger, _) = await StartWithAllocationAsync();
        var service = new GovernanceService(ledger, TimeProvider.System);
        var open = await _harness.ProposeAsync(service, new SetParameter(GovernanceParameters.VoteMaxProducers, 9), "alice");
        var chain = await _harness.ReadChainAsync();
        var last = chain[^1];
        Assert.IsType<ApprovalRecord>(last.Records[^1]);
        var owner = _harness.Producers.Single(p => p.Producer == last.Block.Header.ProducerId);
        var forged = new ApprovalRecord(open.Id, "bob", _harness.Signature(open, "alice"));

        await ResealAsync(last.Block.Header.Height, [.. last.Records, forged], owner);
        var (audit, _) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();

        Assert.Equal(last.Block.Header.Height, audit.Fault!.Height);
        Assert.Contains("a record breaks the governance rules", audit.Fault.Reason, StringComparison.Ordinal);
        Assert.Contains("does not verify with member 'bob'", audit.Fault.Reason, StringComparison.Ordinal);
    }

    /// <summary>A ledger where 77 tokens were allocated to a new holder: proposed with alice's approval, then approved by bob and by carol (executed).</summary>
    private async Task<(GovernanceLedger Ledger, string Account)> StartWithAllocationAsync()
    {
        var ledger = await _harness.StartAsync();
        var account = TestCommittee.Account(_harness.Keys.NewKey());
        await _harness.ExecuteAsync(new GovernanceService(ledger, TimeProvider.System), new AllocateTokens(account, 77));
        return (ledger, account);
    }

    private async Task<long> HeightOfAsync(Func<GovernanceRecord, bool> match) =>
        (await _harness.ReadChainAsync()).Single(c => c.Records.Any(match)).Block.Header.Height;

    private async Task<(string PartitionKey, string RowKey)> EntryKeysAsync(long height, int leaf)
    {
        var block = await _harness.Store().Reader.GetBlockAsync(ChainId, height);
        return (ChainTables.EntriesPartition(ChainId, height, block!.BlockHash), ChainTables.LeafKey(leaf));
    }

    private async Task<byte[]> ReadEventAsync(long height, int leaf)
    {
        var (partitionKey, rowKey) = await EntryKeysAsync(height, leaf);
        var row = await _harness.Tables.GetTableClient("entries").GetEntityIfExistsAsync(partitionKey, rowKey);
        return row!.GetBinary("Event");
    }

    /// <summary>Overwrites a stored entry's record bytes (and, when given, its entry hash) in the entries table.</summary>
    private async Task ChangeEventAsync(long height, int leaf, byte[] json, Hash32? eventHash = null)
    {
        var entries = _harness.Tables.GetTableClient("entries");
        var (partitionKey, rowKey) = await EntryKeysAsync(height, leaf);
        var row = await entries.GetEntityIfExistsAsync(partitionKey, rowKey);
        var properties = new Dictionary<string, object>(row!.Properties) { ["Event"] = json };
        if (eventHash is { } hash)
        {
            properties["EventHash"] = hash.ToArray();
        }

        await entries.UpsertEntityAsync(new TableEntity(partitionKey, rowKey, properties), TableUpdateMode.Replace);
    }

    /// <summary>
    /// Rewrites a block as a producer holding <paramref name="signer"/>'s key could: the same slot and link, the given
    /// records (or the stored ones), a header naming <paramref name="signer"/>, signed with its key.
    /// </summary>
    private async Task<(BlockHeader Header, byte[] Signature)> ResealAsync(long height, IReadOnlyList<GovernanceRecord>? records, GenesisProducer signer)
    {
        var store = _harness.Store();
        var block = (await store.Reader.GetBlockAsync(ChainId, height))!;
        var stored = await store.Reader.ReadEntriesAsync(ChainId, height, block.BlockHash, block.Header.LeafCount, withEvents: true);
        var rows = records is null
            ? stored.Select(e => new EntryRow(e.EventId, e.EventHash, e.Event, e.CaptureId, e.Partner, e.ReceivedAt, 0)).ToList()
            : records.Select(r =>
            {
                var json = r.ToJson();
                return new EntryRow(r.RecordId, Hash32.Compute(json), json, "governance", r.Actor, DateTimeOffset.UtcNow, 0);
            }).ToList();
        var leaves = rows.Select(r => new LedgerEntry(r.EventId, r.EventHash, r.Partner).ComputeLeafHash()).ToArray();
        var header = block.Header with { MerkleRoot = MerkleTree.ComputeRoot(leaves), LeafCount = leaves.Length, ProducerId = signer.Producer, KeyId = signer.Key.KeyId };
        var hash = header.ComputeHash();
        var signature = await signer.Key.SignDigestAsync(hash);
        await store.WriteEntriesAsync(ChainId, height, hash, rows, CancellationToken.None);
        await _harness.Tables.GetTableClient("blocks").UpsertEntityAsync(new TableEntity(ChainId, ChainTables.HeightKey(height), new Dictionary<string, object>
        {
            ["Header"] = header.Encode(),
            ["Signature"] = signature,
            ["BlockHash"] = hash.ToHex(),
            ["LeafCount"] = header.LeafCount,
            ["LogFrom"] = 0L,
            ["LogTo"] = 0L,
        }), TableUpdateMode.Replace);
        return (header, signature);
    }
}
