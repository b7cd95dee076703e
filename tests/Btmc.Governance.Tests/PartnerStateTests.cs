using Btmc.Ledger;
using Xunit;

namespace Btmc.Governance.Tests;

/// <summary>The partner registry as governance records: imported once, changed directly by an operator without a
/// committee, by proposals with one; keys rotated with an overlap; suspension; the committee's error declarations.</summary>
public sealed class PartnerStateTests : IDisposable
{
    private static readonly DateTimeOffset Now = TestCommittee.GenesisTime.AddMinutes(10);
    private static readonly string OperatorKey = PartnerDirectory.HashKey("operator-secret");
    private static readonly string FabKey = PartnerDirectory.HashKey("fab-secret");

    private readonly TestCommittee _keys = new();

    public void Dispose() => _keys.Dispose();

    private static PartnerSpec Spec(string id, PartnerRoles roles, string[] prefixes, params string[] keys) =>
        new(id, id.ToUpperInvariant(), roles, prefixes, [], keys, [], null, false);

    private GovernanceState WithoutCommittee()
    {
        var state = new GovernanceState();
        state.Apply(_keys.Genesis(withCommittee: false), TestCommittee.GenesisTime);
        state.Apply(new PartnersImportRecord([PartnerChange.Create(new AddPartner(Spec("operator", PartnerRoles.Operator, [], OperatorKey))).Text]), Now);
        return state;
    }

    private static PartnerChangeRecord Change(ProposalAction action, string by) => new(PartnerChange.Create(action).Text, by);

    [Fact]
    public void Apply_PartnersImport_RegistersThemOnceOnly()
    {
        var state = WithoutCommittee();

        var again = Assert.Throws<Refused>(() => state.Apply(new PartnersImportRecord([PartnerChange.Create(new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey))).Text]), Now));

        Assert.Equal(["operator"], state.Partners.Keys);
        Assert.Equal(RefusalKind.Conflict, again.Kind);
    }

    [Fact]
    public void Apply_OperatorAddsAPartner_TheDirectoryAuthenticatesItsKey()
    {
        var state = WithoutCommittee();

        state.Apply(Change(new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey)), "operator"), Now);

        var partner = new PartnerDirectory(state.Partners).Authenticate("fab-secret", Now);
        Assert.Equal("fab-a", partner?.Id);
        Assert.Equal(["4012345"], partner!.AsCaller().Prefixes);
        Assert.Null(new PartnerDirectory(state.Partners).Authenticate("wrong", Now));
    }

    [Fact]
    public void Apply_ChangeByAPartnerWithoutTheOperatorRole_Forbidden()
    {
        var state = WithoutCommittee();
        state.Apply(Change(new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey)), "operator"), Now);

        var refused = Assert.Throws<Refused>(() => state.Apply(Change(new AddPartner(Spec("rogue", PartnerRoles.Partner, ["*"])), "fab-a"), Now));

        Assert.Equal(RefusalKind.Forbidden, refused.Kind);
        Assert.False(state.Partners.ContainsKey("rogue"));
    }

    [Fact]
    public void Apply_OperatorChangeOnALedgerWithACommittee_ConflictNamingTheProposal()
    {
        var state = _keys.NewState();
        state.Apply(new PartnersImportRecord([PartnerChange.Create(new AddPartner(Spec("operator", PartnerRoles.Operator, [], OperatorKey))).Text]), Now);

        var refused = Assert.Throws<Refused>(() => state.Apply(Change(new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey)), "operator"), Now));

        Assert.Equal("committee", refused.Field);
        Assert.Contains("add-partner proposals", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_AddPartnerProposal_RegistersThePartnerOnTheThirdApproval()
    {
        var state = _keys.NewState();

        _keys.Execute(state, new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey)), Now, "alice", "bob", "carol");

        Assert.Equal(["4012345"], state.Partners["fab-a"].Spec.Prefixes);
    }

    [Fact]
    public void Execute_UpdatePartnerDroppingAKey_OldKeyValidForTheOverlapThenRefused()
    {
        var state = _keys.NewState();
        _keys.Execute(state, new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey)), Now, "alice", "bob", "carol");
        var newKey = PartnerDirectory.HashKey("fab-secret-2");

        _keys.Execute(state, new UpdatePartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], newKey), 3600), Now, "alice", "bob", "carol");

        var directory = new PartnerDirectory(state.Partners);
        Assert.Equal("fab-a", directory.Authenticate("fab-secret", Now.AddMinutes(59))?.Id);
        Assert.Null(directory.Authenticate("fab-secret", Now.AddMinutes(61)));
        Assert.Equal("fab-a", directory.Authenticate("fab-secret-2", Now.AddDays(400))?.Id);
    }

    [Fact]
    public void Execute_SuspendPartner_ItsKeyAuthenticatesNobody()
    {
        var state = WithoutCommittee();
        state.Apply(Change(new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey)), "operator"), Now);

        state.Apply(Change(new SuspendPartner("fab-a"), "operator"), Now);

        Assert.True(state.Partners["fab-a"].Suspended);
        Assert.Null(new PartnerDirectory(state.Partners).Authenticate("fab-secret", Now));
    }

    [Fact]
    public void Apply_SecondPartnerWithTheSameKey_Conflict()
    {
        var state = WithoutCommittee();
        state.Apply(Change(new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey)), "operator"), Now);

        var refused = Assert.Throws<Refused>(() => state.Apply(Change(new AddPartner(Spec("osat-b", PartnerRoles.Partner, ["4098765"], FabKey)), "operator"), Now));

        Assert.Equal("api-keys", refused.Field);
    }

    [Theory]
    [InlineData("4012345")]
    [InlineData("40123")]
    [InlineData("401234567")]
    public void Apply_PrefixOverlappingAnotherOwnersPrefix_Conflict(string prefix)
    {
        var state = WithoutCommittee();
        state.Apply(Change(new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey)), "operator"), Now);

        var refused = Assert.Throws<Refused>(() => state.Apply(Change(new AddPartner(Spec("osat-b", PartnerRoles.Partner, [prefix])), "operator"), Now));

        Assert.Equal("prefixes", refused.Field);
    }

    [Fact]
    public void Execute_DeclareError_ApprovesTheEventsErrorDeclaration()
    {
        var state = _keys.NewState();
        var eventId = "ni:///sha-256;" + new string('a', 64) + "?ver=CBV2.0";

        _keys.Execute(state, new DeclareError(eventId), Now, "alice", "bob", "carol");

        Assert.Contains(eventId, state.ApprovedErrorDeclarations);
    }

    [Theory]
    [InlineData("prefixes: 12", "prefixes")]
    [InlineData("roles: owner", "roles")]
    [InlineData("api-keys: abc", "api-keys")]
    public void ParsePartnerChange_BadLine_RefusedNamingIt(string line, string field)
    {
        var text = PartnerChange.Create(new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345"], FabKey))).Text;
        var name = line[..line.IndexOf(':', StringComparison.Ordinal)];
        var lines = text.Split('\n').Select(l => l.StartsWith(name + ": ", StringComparison.Ordinal) ? line : l);

        var refused = Assert.Throws<Refused>(() => PartnerChange.Parse(string.Join('\n', lines)));

        Assert.Equal(field, refused.Field);
    }

    [Fact]
    public void PartnerChangeText_AddPartner_IsTheReadableLinesMembersSign()
    {
        var change = new PartnerChange("00112233445566778899aabbccddeeff", new AddPartner(Spec("fab-a", PartnerRoles.Partner, ["4012345", "4012346"], FabKey)));

        Assert.Equal(
            "BTMC partner change\nversion: 1\nnonce: 00112233445566778899aabbccddeeff\naction: add-partner\npartner: fab-a\nname: FAB-A\nroles: partner\n" +
            "prefixes: 4012345,4012346\ngranted-prefixes: -\napi-keys: " + FabKey + "\nprincipal-ids: -\nsigning-key: -\nrequire-signature: false\n",
            change.Text);
        Assert.Equal(change.Text, PartnerChange.Parse(change.Text).Text);
    }
}
