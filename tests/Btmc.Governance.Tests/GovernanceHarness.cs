using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Btmc.Testing;

namespace Btmc.Governance.Tests;

/// <summary>
/// A governance ledger over the real embedded table store in a temporary folder, with short slots
/// (<see cref="SlotClock.MinSlotMilliseconds"/>), producer keys in local key files (osat-b's on secp256k1) and the
/// committee of <see cref="TestCommittee"/>, whose members sign with their own keys.
/// </summary>
internal sealed class GovernanceHarness : IDisposable
{
    public const string DeploymentId = "test";

    private readonly TempDirectory _directory = new();
    private readonly List<LocalKeyFileSigner> _signers = [];

    public GovernanceHarness(int producers = 3)
    {
        Tables = new SqliteTableServiceClient(_directory.Combine("tables.db"));
        Producers = TestCommittee.ProducerIds.Take(producers)
            .Select(id => new GenesisProducer(id, $"{id}.pem", OpenKey($"{id}.pem", secp256k1: id == "osat-b")))
            .ToList();
    }

    public TestCommittee Keys { get; } = new();

    public SqliteTableServiceClient Tables { get; }


    public IReadOnlyList<GenesisProducer> Producers { get; }

    public string KeyPath(string keyFile) => _directory.Combine("keys", keyFile);

    /// <summary>Opens (creating when missing) a producer key file under the harness's keys folder.</summary>
    public LocalKeyFileSigner OpenKey(string keyFile, bool secp256k1 = false)
    {
        var signer = LocalKeyFileSigner.OpenOrCreate(KeyPath(keyFile), secp256k1 ? SignatureAlgorithm.ES256K : SignatureAlgorithm.ES256);
        _signers.Add(signer);
        return signer;
    }

    public GenesisSettings Settings(string deploymentId = DeploymentId, int slotMilliseconds = SlotClock.MinSlotMilliseconds, IReadOnlyList<MemberKey>? committee = null) =>
        new(deploymentId, slotMilliseconds, committee ?? Keys.Committee, Producers);

    /// <summary>A governance ledger over the harness's store (or <paramref name="tables"/>, a fake over it).</summary>
    public Task<GovernanceLedger> StartAsync(
        GenesisSettings? settings = null, Func<ProducerEntry, CancellationToken, Task<ISigningKey?>>? openProducerKey = null, ITableServiceClient? tables = null, TimeProvider? time = null) =>
        GovernanceLedger.StartAsync(tables ?? Tables, string.Empty, settings ?? Settings(), time ?? TimeProvider.System, openProducerKey);

    /// <summary>A store over the same tables, for reading (and tampering with) what the ledgers wrote.</summary>
    public ChainStore Store()
    {
        return new ChainStore(new ChainReader(new ChainTables(Tables)));
    }

    /// <summary>The governance chain as stored: every committed block with its records.</summary>
    public async Task<IReadOnlyList<(StoredBlock Block, IReadOnlyList<GovernanceRecord> Records)>> ReadChainAsync()
    {
        var reader = Store().Reader;
        var chain = new List<(StoredBlock, IReadOnlyList<GovernanceRecord>)>();
        await foreach (var block in reader.ReadBlocksAsync(GovernanceReplay.ChainId))
        {
            var entries = await reader.ReadEntriesAsync(GovernanceReplay.ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: true);
            chain.Add((block, entries.Select(e => GovernanceRecord.FromJson(e.Event.Span)).ToList()));
        }

        return chain;
    }

    /// <summary>Verifies the stored governance chain under <paramref name="rules"/>; null when every block is good.</summary>
    public async Task<ChainFault?> VerifyAsync(DposRules rules)
    {
        var reader = Store().Reader;
        var verifier = new ChainVerifier(GovernanceReplay.ChainId, rules);
        await foreach (var block in reader.ReadBlocksAsync(GovernanceReplay.ChainId))
        {
            var entries = await reader.ReadEntriesAsync(GovernanceReplay.ChainId, block.Header.Height, block.BlockHash, block.Header.LeafCount, withEvents: false);
            var leaves = entries.Select(e => new LedgerEntry(e.EventId, e.EventHash, e.Partner).ComputeLeafHash()).ToArray();
            if (verifier.Append(new SealedBlock(block.Header, block.Signature, leaves)) is { } fault)
            {
                return fault;
            }
        }

        return null;
    }

    /// <summary>A proposal of <paramref name="action"/> on <paramref name="ledger"/>, expiring in a day.</summary>
    public static ProposalPayload Payload(GovernanceLedger ledger, ProposalAction action) =>
        ProposalPayload.Create(ledger.State.Domain, DateTimeOffset.UtcNow.AddDays(1), action);

    public string Signature(ProposalPayload payload, string member) => TestCommittee.Sign(Keys.MemberKey(member), payload.Digest);

    /// <summary>Proposes <paramref name="action"/> with <paramref name="proposer"/>'s approval, then approves it by the others, through the service.</summary>
    public async Task<ProposalPayload> ProposeAsync(GovernanceService service, ProposalAction action, string proposer = "alice", params string[] approvers)
    {
        var payload = Payload(service.Ledger, action);
        await service.ProposeAsync(payload.Text, proposer, Signature(payload, proposer));
        foreach (var member in approvers)
        {
            await service.ApproveAsync(payload.Id, member, Signature(payload, member));
        }

        return payload;
    }

    /// <summary>Proposes and executes <paramref name="action"/> (alice, bob and carol approve).</summary>
    public Task<ProposalPayload> ExecuteAsync(GovernanceService service, ProposalAction action) => ProposeAsync(service, action, "alice", "bob", "carol");

    public void Dispose()
    {
        Tables.Dispose();
        foreach (var signer in _signers)
        {
            signer.Dispose();
        }

        Keys.Dispose();
        _directory.Dispose();
    }
}
