using System.Security.Cryptography;
using Btmc.Ledger;

namespace Btmc.Governance.Tests;

/// <summary>
/// Real keys for the pure governance tests: five committee members (bob's key is on secp256k1, the others on P-256),
/// three producers and any number of token holders, with helpers that sign and build records the way members and
/// holders do on their own machines.
/// </summary>
internal sealed class TestCommittee : IDisposable
{
    public const string Domain = "btmc/test/governance";

    public static readonly string[] Members = ["alice", "bob", "carol", "dave", "erin"];

    public static readonly string[] ProducerIds = ["fab-a", "osat-b", "dist-c"];

    /// <summary>Genesis: the start of slot 0.</summary>
    public static readonly DateTimeOffset GenesisTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly List<ECDsa> _keys = [];
    private readonly Dictionary<string, ECDsa> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ECDsa> _producers = new(StringComparer.Ordinal);

    public TestCommittee()
    {
        foreach (var member in Members)
        {
            _members[member] = NewKey(secp256k1: member == "bob");
        }

        foreach (var producer in ProducerIds)
        {
            _producers[producer] = NewKey(secp256k1: producer == "osat-b");
        }
    }

    public ECDsa MemberKey(string member) => _members[member];

    public ECDsa ProducerKey(string producer) => _producers[producer];

    public IReadOnlyList<MemberKey> Committee => Members.Select(m => new MemberKey(m, EcPublicJwk.FromECDsa(_members[m]))).ToList();

    /// <summary>A new key this helper disposes.</summary>
    public ECDsa NewKey(bool secp256k1 = false)
    {
        var key = ECDsa.Create(secp256k1 ? ECCurve.CreateFromValue("1.3.132.0.10") : ECCurve.NamedCurves.nistP256);
        _keys.Add(key);
        return key;
    }

    /// <summary>Adds a member key under a new name (for replace-member proposals).</summary>
    public ECDsa AddMemberKey(string member, bool secp256k1 = false) => _members[member] = NewKey(secp256k1);

    public GenesisRecord Genesis(int producers = 3, int slotMilliseconds = 1000, int slotsPerRound = 51, bool withCommittee = true) => new(
        "test",
        Domain,
        GenesisTime.ToUnixTimeMilliseconds(),
        slotMilliseconds,
        slotsPerRound,
        withCommittee ? Committee : [],
        ProducerIds.Take(producers).Select(p => new ProducerEntry(p, $"{p}.pem", EcPublicJwk.FromECDsa(_producers[p]))).ToList());

    /// <summary>A state with the genesis applied at slot 0.</summary>
    public GovernanceState NewState(int producers = 3)
    {
        var state = new GovernanceState();
        state.Apply(Genesis(producers), GenesisTime);
        return state;
    }

    /// <summary>A proposal of <paramref name="action"/> expiring a day after <paramref name="now"/>.</summary>
    public static ProposalPayload Payload(ProposalAction action, DateTimeOffset now, string domain = Domain) =>
        ProposalPayload.Create(domain, now.AddDays(1), action);

    public static string Sign(ECDsa key, Hash32 digest) => Convert.ToBase64String(BlockSignature.Sign(key, digest));

    public ApprovalRecord Approval(ProposalPayload payload, string member) => new(payload.Id, member, Sign(_members[member], payload.Digest));

    /// <summary>The records that propose, approve (by <paramref name="approvers"/>, in that order) and execute an action.</summary>
    public IReadOnlyList<GovernanceRecord> Executed(ProposalAction action, DateTimeOffset now, params string[] approvers)
    {
        if (approvers.Length == 0)
        {
            approvers = ["alice", "bob", "carol"];
        }

        var payload = Payload(action, now);
        return
        [
            new ProposalRecord(payload.Text),
            .. approvers.Select(m => Approval(payload, m)),
            new ExecutionRecord(payload.Id, approvers.Order(StringComparer.Ordinal).ToList()),
        ];
    }

    /// <summary>Proposes, approves by three members and executes <paramref name="action"/> at <paramref name="now"/>.</summary>
    public void Execute(GovernanceState state, ProposalAction action, DateTimeOffset now, params string[] approvers)
    {
        foreach (var record in Executed(action, now, approvers))
        {
            state.Apply(record, now);
        }
    }

    /// <summary>The token account of a holder's key: its RFC 7638 thumbprint.</summary>
    public static string Account(ECDsa holder) => EcPublicJwk.FromECDsa(holder).ComputeThumbprint();

    /// <summary>A vote signed by <paramref name="holder"/>.</summary>
    public static VoteRecord Vote(ECDsa holder, long sequence, params string[] producers)
    {
        var payload = new VotePayload(Domain, Account(holder), sequence, producers.Order(StringComparer.Ordinal).ToList());
        return new VoteRecord(payload.Text, EcPublicJwk.FromECDsa(holder), Sign(holder, payload.Digest));
    }

    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }
}
