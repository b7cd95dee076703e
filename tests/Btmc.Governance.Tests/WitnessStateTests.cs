using Btmc.Ledger;
using Btmc.Ledger.Transparency;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;

namespace Btmc.Governance.Tests;

/// <summary>The witness registry as governance records: changed directly by an operator without a committee, by
/// add-witness and remove-witness proposals with one; duplicates and malformed verifier keys refused.</summary>
public sealed class WitnessStateTests : IDisposable
{
    private static readonly DateTimeOffset Now = TestCommittee.GenesisTime.AddMinutes(10);

    private readonly TestCommittee _keys = new();

    public void Dispose() => _keys.Dispose();

    private static Cosigner Witness(string name, byte seed) =>
        Cosigner.OfEd25519(name, new Ed25519PrivateKeyParameters(Enumerable.Repeat(seed, 32).ToArray()));

    private static PartnerSpec Operator => new("operator", "Operator", PartnerRoles.Operator, [], [], [PartnerDirectory.HashKey("op")], [], null, false);

    private GovernanceState WithoutCommittee()
    {
        var state = new GovernanceState();
        state.Apply(_keys.Genesis(withCommittee: false), TestCommittee.GenesisTime);
        state.Apply(new PartnersImportRecord([PartnerChange.Create(new AddPartner(Operator)).Text,
            PartnerChange.Create(new AddPartner(Operator with { Id = "fab-a", Roles = PartnerRoles.Partner, ApiKeySha256 = [PartnerDirectory.HashKey("fab")] })).Text]), Now);
        return state;
    }

    private static WitnessChangeRecord Change(ProposalAction action, string by) => new(WitnessChange.Create(action).Text, by);

    [Fact]
    public void Apply_OperatorAddsAndRemovesAWitness_StateFollows()
    {
        var state = WithoutCommittee();
        var witness = Witness("witness.test/w1", 1);

        state.Apply(Change(new AddWitness(witness), "operator"), Now);
        Assert.Equal(witness.ToVerifierKey(), state.Witnesses["witness.test/w1"].ToVerifierKey());

        state.Apply(Change(new RemoveWitness("witness.test/w1"), "operator"), Now);
        Assert.Empty(state.Witnesses);
    }

    [Fact]
    public void Apply_SameNameOrSameKeyTwice_Conflict()
    {
        var state = WithoutCommittee();
        state.Apply(Change(new AddWitness(Witness("witness.test/w1", 1)), "operator"), Now);

        var sameName = Assert.Throws<Refused>(() => state.Apply(Change(new AddWitness(Witness("witness.test/w1", 2)), "operator"), Now));
        var sameKey = Assert.Throws<Refused>(() => state.Apply(Change(new AddWitness(Witness("witness.test/w2", 1)), "operator"), Now));

        Assert.Equal((RefusalKind.Conflict, "witness"), (sameName.Kind, sameName.Field));
        Assert.Equal((RefusalKind.Conflict, "verifier-key"), (sameKey.Kind, sameKey.Field));
        Assert.Single(state.Witnesses);
    }

    [Fact]
    public void Apply_ChangeByANonOperator_Forbidden()
    {
        var state = WithoutCommittee();

        var refused = Assert.Throws<Refused>(() => state.Apply(Change(new AddWitness(Witness("witness.test/w1", 1)), "fab-a"), Now));

        Assert.Equal(RefusalKind.Forbidden, refused.Kind);
        Assert.Empty(state.Witnesses);
    }

    [Fact]
    public void Apply_OperatorChangeOnALedgerWithACommittee_ConflictNamingTheProposal()
    {
        var state = _keys.NewState();
        state.Apply(new PartnersImportRecord([PartnerChange.Create(new AddPartner(Operator)).Text]), Now);

        var refused = Assert.Throws<Refused>(() => state.Apply(Change(new AddWitness(Witness("witness.test/w1", 1)), "operator"), Now));

        Assert.Equal((RefusalKind.Conflict, "committee"), (refused.Kind, refused.Field));
        Assert.Contains("add-witness proposals", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_AddWitnessThenRemoveWitnessProposals_RegisterAndRemoveOnTheThirdApproval()
    {
        var state = _keys.NewState();

        _keys.Execute(state, new AddWitness(Witness("witness.test/w1", 1)), Now, "alice", "bob", "carol");
        Assert.True(state.Witnesses.ContainsKey("witness.test/w1"));

        _keys.Execute(state, new RemoveWitness("witness.test/w1"), Now, "alice", "bob", "carol");
        Assert.Empty(state.Witnesses);
    }

    [Fact]
    public void Parse_AddWitnessPayload_ReadableLinesRoundTrip()
    {
        var witness = Witness("witness.test/w1", 1);
        var payload = TestCommittee.Payload(new AddWitness(witness), Now);

        var parsed = ProposalPayload.Parse(payload.Text);

        Assert.Contains($"\nwitness: witness.test/w1\nverifier-key: {witness.ToVerifierKey()}\n", payload.Text, StringComparison.Ordinal);
        Assert.Equal(witness.ToVerifierKey(), Assert.IsType<AddWitness>(parsed.Action).Witness.ToVerifierKey());
    }

    [Fact]
    public void Parse_WitnessLineNotTheVerifierKeysName_RefusedNamingTheLine()
    {
        var text = TestCommittee.Payload(new AddWitness(Witness("witness.test/w1", 1)), Now).Text
            .Replace("witness: witness.test/w1\n", "witness: witness.test/other\n", StringComparison.Ordinal);

        var refused = Assert.Throws<Refused>(() => ProposalPayload.Parse(text));

        Assert.Equal("witness", refused.Field);
    }

    [Theory]
    [InlineData("not a key")]
    [InlineData("witness.test/w1+00000000+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void FromVerifierKey_Malformed_InvalidNamingTheField(string verifierKey)
    {
        var refused = Assert.Throws<Refused>(() => AddWitness.FromVerifierKey(verifierKey));

        Assert.Equal((RefusalKind.Invalid, "verifier-key"), (refused.Kind, refused.Field));
    }
}
