using Btmc.Ledger;
using Xunit;

namespace Btmc.Governance.Tests;

public sealed class GovernanceStateTests : IDisposable
{
    private static readonly DateTimeOffset Now = TestCommittee.GenesisTime.AddMinutes(10);

    private readonly TestCommittee _keys = new();

    public void Dispose() => _keys.Dispose();

    // ---------------------------------------------------------------- genesis and committee

    [Fact]
    public void Apply_Genesis_SetsCommitteeProducersClockAndDefaults()
    {
        var state = _keys.NewState(producers: 2);

        Assert.Equal(TestCommittee.Domain, state.Domain);
        Assert.Equal(TestCommittee.Members, state.Committee.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["fab-a", "osat-b"], state.Producers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TestCommittee.GenesisTime, state.Clock.SlotStart(0));
        Assert.Equal(30, state.Parameters[GovernanceParameters.VoteMaxProducers]);
        Assert.Equal(720, state.Parameters[GovernanceParameters.ProposalMaxLifetimeHours]);
        Assert.Equal(0, state.Supply);
        Assert.Empty(state.Holdings);
    }

    [Fact]
    public void Apply_RecordBeforeGenesis_IsRefused()
    {
        var state = new GovernanceState();

        var refused = Assert.Throws<Refused>(() => state.Apply(new CommitteeRecord(_keys.Committee), Now));

        Assert.Equal("type", refused.Field);
        Assert.Null(state.Genesis);
    }

    [Fact]
    public void Apply_SecondGenesis_IsRefusedAsConflict()
    {
        var state = _keys.NewState();

        var refused = Assert.Throws<Refused>(() => state.Apply(_keys.Genesis(), Now));

        Assert.Equal("type", refused.Field);
        Assert.Equal(RefusalKind.Conflict, refused.Kind);
    }

    [Fact]
    public void Apply_GenesisWithoutProducers_IsRefused()
    {
        var refused = Assert.Throws<Refused>(() => new GovernanceState().Apply(_keys.Genesis(producers: 0), TestCommittee.GenesisTime));

        Assert.Equal("producers", refused.Field);
    }

    [Fact]
    public void Apply_GenesisWithTwoProducersSharingAKey_IsRefused()
    {
        var genesis = _keys.Genesis(producers: 2);
        genesis = genesis with { Producers = [genesis.Producers[0], genesis.Producers[1] with { PublicKey = genesis.Producers[0].PublicKey }] };

        var refused = Assert.Throws<Refused>(() => new GovernanceState().Apply(genesis, TestCommittee.GenesisTime));

        Assert.Equal("producers", refused.Field);
        Assert.Contains("its own key", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_GenesisWithFourMembers_IsRefused()
    {
        var genesis = _keys.Genesis() with { Committee = _keys.Committee.Take(4).ToList() };

        var refused = Assert.Throws<Refused>(() => new GovernanceState().Apply(genesis, TestCommittee.GenesisTime));

        Assert.Equal("committee", refused.Field);
    }

    [Fact]
    public void Apply_GenesisWithTwoMembersSharingAKey_IsRefused()
    {
        var committee = _keys.Committee.ToList();
        committee[4] = committee[4] with { PublicKey = committee[0].PublicKey };

        var refused = Assert.Throws<Refused>(() => new GovernanceState().Apply(_keys.Genesis() with { Committee = committee }, TestCommittee.GenesisTime));

        Assert.Equal("committee", refused.Field);
    }

    [Fact]
    public void Apply_CommitteeRecord_IsAcceptedOnceWhileThereIsNone()
    {
        var state = new GovernanceState();
        state.Apply(_keys.Genesis(withCommittee: false), TestCommittee.GenesisTime);
        var early = TestCommittee.Payload(new AllocateTokens(TestCommittee.Account(_keys.NewKey()), 1), Now);
        Assert.Equal("committee", Assert.Throws<Refused>(() => state.Apply(new ProposalRecord(early.Text), Now)).Field);

        state.Apply(new CommitteeRecord(_keys.Committee), Now);
        var again = Assert.Throws<Refused>(() => state.Apply(new CommitteeRecord(_keys.Committee), Now));

        Assert.Equal(TestCommittee.Members, state.Committee.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("committee", again.Field);
        Assert.Equal(RefusalKind.Conflict, again.Kind);
    }

    // ---------------------------------------------------------------- proposals

    [Fact]
    public void Apply_Proposal_IsRecordedOpenWithoutApprovals()
    {
        var state = _keys.NewState();
        var payload = TestCommittee.Payload(new AllocateTokens(TestCommittee.Account(_keys.NewKey()), 10), Now);

        state.Apply(new ProposalRecord(payload.Text), Now);

        var proposal = state.Proposals[payload.Id];
        Assert.Equal(payload, proposal.Payload);
        Assert.Empty(proposal.Approvals);
        Assert.False(proposal.Executed);
    }

    [Fact]
    public void Apply_ProposalForAnotherDomain_IsRefusedNamingTheDomain()
    {
        var state = _keys.NewState();
        var payload = TestCommittee.Payload(new SetParameter(GovernanceParameters.VoteMaxProducers, 5), Now, domain: "btmc/other/governance");

        var refused = Assert.Throws<Refused>(() => state.Apply(new ProposalRecord(payload.Text), Now));

        Assert.Equal("domain", refused.Field);
        Assert.Empty(state.Proposals);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-86_400)]
    public void Apply_ProposalExpiringAtOrBeforeItsSlot_IsRefused(int secondsAfterSlot)
    {
        var state = _keys.NewState();
        var payload = ProposalPayload.Create(TestCommittee.Domain, Now.AddSeconds(secondsAfterSlot), new SetParameter(GovernanceParameters.VoteMaxProducers, 5));

        var refused = Assert.Throws<Refused>(() => state.Apply(new ProposalRecord(payload.Text), Now));

        Assert.Equal("expires", refused.Field);
        Assert.Equal(RefusalKind.Conflict, refused.Kind);
    }

    [Fact]
    public void Apply_ProposalExpiringBeyondTheMaxLifetime_IsRefusedAndAtItIsAccepted()
    {
        var state = _keys.NewState();
        var action = new SetParameter(GovernanceParameters.VoteMaxProducers, 5);
        var tooLate = ProposalPayload.Create(TestCommittee.Domain, Now.AddHours(720).AddSeconds(1), action);
        var atLimit = ProposalPayload.Create(TestCommittee.Domain, Now.AddHours(720), action);

        var refused = Assert.Throws<Refused>(() => state.Apply(new ProposalRecord(tooLate.Text), Now));
        state.Apply(new ProposalRecord(atLimit.Text), Now);

        Assert.Equal("expires", refused.Field);
        Assert.Contains(GovernanceParameters.ProposalMaxLifetimeHours, refused.Message, StringComparison.Ordinal);
        Assert.True(state.Proposals.ContainsKey(atLimit.Id));
    }

    [Fact]
    public void Apply_ProposalAfterTheLifetimeParameterChanged_UsesTheNewLimit()
    {
        var state = _keys.NewState();
        _keys.Execute(state, new SetParameter(GovernanceParameters.ProposalMaxLifetimeHours, 1), Now);
        var twoHours = ProposalPayload.Create(TestCommittee.Domain, Now.AddHours(2), new AllocateTokens(TestCommittee.Account(_keys.NewKey()), 1));

        var refused = Assert.Throws<Refused>(() => state.Apply(new ProposalRecord(twoHours.Text), Now));

        Assert.Equal("expires", refused.Field);
    }

    [Fact]
    public void Apply_SameProposalTwice_IsRefusedAsConflict()
    {
        var state = _keys.NewState();
        var payload = TestCommittee.Payload(new SetParameter(GovernanceParameters.VoteMaxProducers, 5), Now);
        state.Apply(new ProposalRecord(payload.Text), Now);

        var refused = Assert.Throws<Refused>(() => state.Apply(new ProposalRecord(payload.Text), Now.AddSeconds(1)));

        Assert.Equal("nonce", refused.Field);
        Assert.Equal(RefusalKind.Conflict, refused.Kind);
    }

    // ---------------------------------------------------------------- approvals

    [Fact]
    public void Apply_ApprovalOfUnknownProposal_IsRefused()
    {
        var state = _keys.NewState();
        var payload = TestCommittee.Payload(new SetParameter(GovernanceParameters.VoteMaxProducers, 5), Now);

        var refused = Assert.Throws<Refused>(() => state.Apply(_keys.Approval(payload, "alice"), Now));

        Assert.Equal("proposal", refused.Field);
    }

    [Fact]
    public void Apply_ApprovalByNonMember_IsRefused()
    {
        var state = _keys.NewState();
        var payload = Proposed(state);
        var mallory = _keys.NewKey();

        var refused = Assert.Throws<Refused>(() => state.Apply(new ApprovalRecord(payload.Id, "mallory", TestCommittee.Sign(mallory, payload.Digest)), Now));

        Assert.Equal("member", refused.Field);
        Assert.Empty(state.Proposals[payload.Id].Approvals);
    }

    [Fact]
    public void Apply_SameMemberApprovingTwice_IsRefusedAsConflict()
    {
        var state = _keys.NewState();
        var payload = Proposed(state);
        state.Apply(_keys.Approval(payload, "alice"), Now);

        // A second, different signature by the same member (ECDSA signatures are randomised).
        var refused = Assert.Throws<Refused>(() => state.Apply(_keys.Approval(payload, "alice"), Now));

        Assert.Equal("member", refused.Field);
        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Equal(["alice"], state.CountedApprovals(state.Proposals[payload.Id]));
    }

    [Fact]
    public void Apply_ApprovalSigningAnotherProposalsDigest_IsRefused()
    {
        var state = _keys.NewState();
        var payload = Proposed(state);
        var other = Proposed(state);

        var refused = Assert.Throws<Refused>(() =>
            state.Apply(new ApprovalRecord(payload.Id, "carol", TestCommittee.Sign(_keys.MemberKey("carol"), other.Digest)), Now));

        Assert.Equal("signature", refused.Field);
    }

    [Fact]
    public void Apply_ApprovalSignedWithAnotherMembersKey_IsRefused()
    {
        var state = _keys.NewState();
        var payload = Proposed(state);

        var refused = Assert.Throws<Refused>(() =>
            state.Apply(new ApprovalRecord(payload.Id, "carol", TestCommittee.Sign(_keys.MemberKey("dave"), payload.Digest)), Now));

        Assert.Equal("signature", refused.Field);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void Apply_ApprovalWithMalformedSignature_IsRefused(string signature)
    {
        var state = _keys.NewState();
        var payload = Proposed(state);

        var refused = Assert.Throws<Refused>(() => state.Apply(new ApprovalRecord(payload.Id, "carol", signature), Now));

        Assert.Equal("signature", refused.Field);
    }

    [Fact]
    public void Apply_ApprovalByMemberWithSecp256k1Key_Counts()
    {
        var state = _keys.NewState();
        var payload = Proposed(state);
        Assert.Equal(EcPublicJwk.CurveSecp256k1, state.Committee["bob"].Crv);

        state.Apply(_keys.Approval(payload, "bob"), Now);

        Assert.Equal(["bob"], state.CountedApprovals(state.Proposals[payload.Id]));
    }

    [Fact]
    public void Apply_ApprovalAfterExpiry_IsRefused()
    {
        var state = _keys.NewState();
        var payload = Proposed(state);

        var refused = Assert.Throws<Refused>(() => state.Apply(_keys.Approval(payload, "alice"), payload.Expires));

        Assert.Equal("proposal", refused.Field);
        Assert.Equal(RefusalKind.Conflict, refused.Kind);
    }

    [Fact]
    public void Apply_ApprovalOfExecutedProposal_IsRefused()
    {
        var state = _keys.NewState();
        var records = _keys.Executed(new SetParameter(GovernanceParameters.VoteMaxProducers, 5), Now);
        Apply(state, records);
        var payload = ProposalPayload.Parse(((ProposalRecord)records[0]).Payload);

        var refused = Assert.Throws<Refused>(() => state.Apply(_keys.Approval(payload, "dave"), Now));

        Assert.Equal("proposal", refused.Field);
        Assert.Equal(RefusalKind.Conflict, refused.Kind);
    }

    // ---------------------------------------------------------------- execution

    [Fact]
    public void Apply_ExecutionWithTwoApprovals_IsRefused()
    {
        var state = _keys.NewState();
        var payload = Proposed(state);
        state.Apply(_keys.Approval(payload, "alice"), Now);
        state.Apply(_keys.Approval(payload, "bob"), Now);

        var refused = Assert.Throws<Refused>(() => state.Apply(new ExecutionRecord(payload.Id, ["alice", "bob"]), Now));

        Assert.Equal("approvals", refused.Field);
        Assert.False(state.Proposals[payload.Id].Executed);
    }

    [Fact]
    public void Apply_ExecutionWithThreeApprovals_ListsExactlyTheCountedMembersInOrdinalOrder()
    {
        var state = _keys.NewState();
        var account = TestCommittee.Account(_keys.NewKey());
        var payload = Proposed(state, new AllocateTokens(account, 250));
        foreach (var member in new[] { "erin", "carol", "alice" })
        {
            state.Apply(_keys.Approval(payload, member), Now);
        }

        var counted = state.CountedApprovals(state.Proposals[payload.Id]);
        state.Apply(new ExecutionRecord(payload.Id, ["alice", "carol", "erin"]), Now.AddSeconds(3));

        Assert.Equal(["alice", "carol", "erin"], counted);
        Assert.Equal(Now.AddSeconds(3), state.Proposals[payload.Id].ExecutedAt);
        Assert.Equal(250, state.Holdings[account]);
    }

    [Theory]
    [InlineData("erin", "carol", "alice")]
    [InlineData("alice", "bob", "carol")]
    [InlineData("alice", "carol")]
    [InlineData("alice", "carol", "erin", "erin")]
    public void Apply_ExecutionNotListingExactlyTheCountedMembersInOrder_IsRefused(params string[] listed)
    {
        var state = _keys.NewState();
        var payload = Proposed(state);
        foreach (var member in new[] { "erin", "carol", "alice" })
        {
            state.Apply(_keys.Approval(payload, member), Now);
        }

        var refused = Assert.Throws<Refused>(() => state.Apply(new ExecutionRecord(payload.Id, listed), Now));

        Assert.Equal("approvals", refused.Field);
    }

    [Fact]
    public void Apply_ExecutionWithFourApprovals_ListsAllFour()
    {
        var state = _keys.NewState();
        var payload = Proposed(state);
        foreach (var member in new[] { "dave", "bob", "erin", "alice" })
        {
            state.Apply(_keys.Approval(payload, member), Now);
        }

        Assert.Throws<Refused>(() => state.Apply(new ExecutionRecord(payload.Id, ["alice", "bob", "dave"]), Now));
        state.Apply(new ExecutionRecord(payload.Id, ["alice", "bob", "dave", "erin"]), Now);

        Assert.True(state.Proposals[payload.Id].Executed);
    }

    [Fact]
    public void Apply_ExecutionTwice_IsRefusedAsConflict()
    {
        var state = _keys.NewState();
        var account = TestCommittee.Account(_keys.NewKey());
        var records = _keys.Executed(new AllocateTokens(account, 40), Now);
        Apply(state, records);

        var refused = Assert.Throws<Refused>(() => state.Apply(records[^1], Now.AddSeconds(1)));

        Assert.Equal("proposal", refused.Field);
        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Equal(40, state.Holdings[account]);
        Assert.Equal(40, state.Supply);
    }

    [Fact]
    public void Apply_ExecutionAfterExpiry_IsRefused()
    {
        var state = _keys.NewState();
        var records = _keys.Executed(new SetParameter(GovernanceParameters.VoteMaxProducers, 5), Now);
        Apply(state, records.Take(records.Count - 1));
        var expires = ProposalPayload.Parse(((ProposalRecord)records[0]).Payload).Expires;

        var refused = Assert.Throws<Refused>(() => state.Apply(records[^1], expires));

        Assert.Equal("proposal", refused.Field);
        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Equal(30, state.Parameters[GovernanceParameters.VoteMaxProducers]);
    }

    [Fact]
    public void Apply_ExecutionOfUnknownProposal_IsRefused()
    {
        var state = _keys.NewState();

        var refused = Assert.Throws<Refused>(() => state.Apply(new ExecutionRecord(new string('0', 64), ["alice", "bob", "carol"]), Now));

        Assert.Equal("proposal", refused.Field);
    }

    // ---------------------------------------------------------------- replace-member

    [Fact]
    public void Apply_ReplacedMember_TheirEarlierApprovalStopsCountingAndTheirNewApprovalIsRefused()
    {
        var state = _keys.NewState();
        var pending = Proposed(state);
        state.Apply(_keys.Approval(pending, "erin"), Now);
        state.Apply(_keys.Approval(pending, "alice"), Now);
        var later = Proposed(state);
        var frank = _keys.AddMemberKey("frank", secp256k1: true);
        Assert.Equal(["alice", "erin"], state.CountedApprovals(state.Proposals[pending.Id]));

        _keys.Execute(state, new ReplaceMember("erin", "frank", EcPublicJwk.FromECDsa(frank)), Now, "bob", "carol", "dave");
        state.Apply(_keys.Approval(pending, "bob"), Now);

        Assert.Equal(["alice", "bob", "carol", "dave", "frank"], state.Committee.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["alice", "bob"], state.CountedApprovals(state.Proposals[pending.Id]));
        Assert.Equal("approvals", Assert.Throws<Refused>(() => state.Apply(new ExecutionRecord(pending.Id, ["alice", "bob", "erin"]), Now)).Field);
        Assert.Equal("member", Assert.Throws<Refused>(() => state.Apply(_keys.Approval(later, "erin"), Now)).Field);

        state.Apply(_keys.Approval(pending, "frank"), Now);
        state.Apply(new ExecutionRecord(pending.Id, ["alice", "bob", "frank"]), Now);
        Assert.True(state.Proposals[pending.Id].Executed);
    }

    [Fact]
    public void Apply_ReplaceMemberProposals_ThatCannotBeCarriedOut_AreRefused()
    {
        var state = _keys.NewState();
        var fresh = EcPublicJwk.FromECDsa(_keys.NewKey());
        var carolsKey = EcPublicJwk.FromECDsa(_keys.MemberKey("carol"));

        Assert.Equal("member", Refused(state, new ReplaceMember("mallory", "frank", fresh)).Field);
        Assert.Equal("new-member", Refused(state, new ReplaceMember("erin", "dave", fresh)).Field);
        Assert.Equal("public-key", Refused(state, new ReplaceMember("erin", "frank", carolsKey)).Field);
    }

    // ---------------------------------------------------------------- allocate-tokens

    [Fact]
    public void Apply_AllocateTokens_CreditsHoldingsAndSupply()
    {
        var state = _keys.NewState();
        var first = TestCommittee.Account(_keys.NewKey());
        var second = TestCommittee.Account(_keys.NewKey(secp256k1: true));

        _keys.Execute(state, new AllocateTokens(first, 100), Now);
        _keys.Execute(state, new AllocateTokens(second, 7), Now);
        _keys.Execute(state, new AllocateTokens(first, 23), Now);

        Assert.Equal(123, state.Holdings[first]);
        Assert.Equal(7, state.Holdings[second]);
        Assert.Equal(130, state.Supply);
    }

    [Fact]
    public void Apply_AllocationOfZero_IsRefused()
    {
        var state = _keys.NewState();

        Assert.Equal("amount", Refused(state, new AllocateTokens(TestCommittee.Account(_keys.NewKey()), 0)).Field);
    }

    [Fact]
    public void Apply_AllocationPastMaxSupply_IsRefusedWhenProposedAndWhenExecuted()
    {
        var state = _keys.NewState();
        var account = TestCommittee.Account(_keys.NewKey());
        var small = Proposed(state, new AllocateTokens(account, 1));
        foreach (var member in new[] { "alice", "bob", "carol" })
        {
            state.Apply(_keys.Approval(small, member), Now);
        }

        _keys.Execute(state, new AllocateTokens(account, GovernanceState.MaxSupply), Now);
        var atExecution = Assert.Throws<Refused>(() => state.Apply(new ExecutionRecord(small.Id, ["alice", "bob", "carol"]), Now));
        var atProposal = Refused(state, new AllocateTokens(account, 1));

        Assert.Equal(GovernanceState.MaxSupply, state.Supply);
        Assert.Equal(GovernanceState.MaxSupply, state.Holdings[account]);
        Assert.Equal("amount", atExecution.Field);
        Assert.Equal(RefusalKind.Conflict, atExecution.Kind);
        Assert.False(state.Proposals[small.Id].Executed);
        Assert.Equal("amount", atProposal.Field);
    }

    // ---------------------------------------------------------------- producers

    [Fact]
    public void Apply_AddProducer_RegistersItWithItsKeyReference()
    {
        var state = _keys.NewState(producers: 1);
        var key = EcPublicJwk.FromECDsa(_keys.NewKey(secp256k1: true));

        _keys.Execute(state, new AddProducer("pkg-d", "https://vault.example.net/keys/pkg-d", key), Now);

        Assert.Equal(new ProducerEntry("pkg-d", "https://vault.example.net/keys/pkg-d", key), state.Producers["pkg-d"]);
        Assert.Equal(["fab-a", "pkg-d"], state.Electorate().Select(c => c.ProducerId));
    }

    [Fact]
    public void Apply_AddProducerWithATakenIdOrKey_IsRefused()
    {
        var state = _keys.NewState(producers: 2);
        var fresh = EcPublicJwk.FromECDsa(_keys.NewKey());
        var osatKey = EcPublicJwk.FromECDsa(_keys.ProducerKey("osat-b"));

        var duplicateId = Refused(state, new AddProducer("fab-a", "fab-a-2.pem", fresh));
        var duplicateKey = Refused(state, new AddProducer("pkg-d", "pkg-d.pem", osatKey));

        Assert.Equal("producer", duplicateId.Field);
        Assert.Equal(RefusalKind.Conflict, duplicateId.Kind);
        Assert.Equal("public-key", duplicateKey.Field);
        Assert.Equal(RefusalKind.Conflict, duplicateKey.Kind);
    }

    [Fact]
    public void Apply_AddProducerOfTheSameIdTwice_SecondExecutionIsRefused()
    {
        var state = _keys.NewState(producers: 1);
        var first = Proposed(state, new AddProducer("pkg-d", "one.pem", EcPublicJwk.FromECDsa(_keys.NewKey())));
        var second = Proposed(state, new AddProducer("pkg-d", "two.pem", EcPublicJwk.FromECDsa(_keys.NewKey())));
        foreach (var member in new[] { "alice", "bob", "carol" })
        {
            state.Apply(_keys.Approval(first, member), Now);
            state.Apply(_keys.Approval(second, member), Now);
        }

        state.Apply(new ExecutionRecord(first.Id, ["alice", "bob", "carol"]), Now);
        var refused = Assert.Throws<Refused>(() => state.Apply(new ExecutionRecord(second.Id, ["alice", "bob", "carol"]), Now));

        Assert.Equal("producer", refused.Field);
        Assert.Equal("one.pem", state.Producers["pkg-d"].Key);
    }

    [Fact]
    public void Apply_RemoveProducer_Unregisters()
    {
        var state = _keys.NewState(producers: 3);

        _keys.Execute(state, new RemoveProducer("osat-b"), Now);

        Assert.Equal(["dist-c", "fab-a"], state.Producers.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Apply_RemoveUnknownProducer_IsRefused()
    {
        var state = _keys.NewState(producers: 2);

        Assert.Equal("producer", Refused(state, new RemoveProducer("pkg-d")).Field);
    }

    [Fact]
    public void Apply_RemoveTheLastProducer_IsRefusedWhenProposedAndWhenExecuted()
    {
        var single = _keys.NewState(producers: 1);
        var atProposal = Refused(single, new RemoveProducer("fab-a"));

        var state = _keys.NewState(producers: 2);
        var removeA = Proposed(state, new RemoveProducer("fab-a"));
        var removeB = Proposed(state, new RemoveProducer("osat-b"));
        foreach (var member in new[] { "alice", "bob", "carol" })
        {
            state.Apply(_keys.Approval(removeA, member), Now);
            state.Apply(_keys.Approval(removeB, member), Now);
        }

        state.Apply(new ExecutionRecord(removeA.Id, ["alice", "bob", "carol"]), Now);
        var atExecution = Assert.Throws<Refused>(() => state.Apply(new ExecutionRecord(removeB.Id, ["alice", "bob", "carol"]), Now));

        Assert.Equal("producer", atProposal.Field);
        Assert.Equal("producer", atExecution.Field);
        Assert.Contains("last producer", atExecution.Message, StringComparison.Ordinal);
        Assert.Equal(["osat-b"], state.Producers.Keys);
    }

    // ---------------------------------------------------------------- set-parameter

    [Theory]
    [InlineData(GovernanceParameters.VoteMaxProducers, 1)]
    [InlineData(GovernanceParameters.VoteMaxProducers, 50)]
    [InlineData(GovernanceParameters.ProposalMaxLifetimeHours, 1)]
    [InlineData(GovernanceParameters.ProposalMaxLifetimeHours, 8760)]
    public void Apply_SetParameterWithinRange_SetsIt(string parameter, long value)
    {
        var state = _keys.NewState();

        _keys.Execute(state, new SetParameter(parameter, value), Now);

        Assert.Equal(value, state.Parameters[parameter]);
    }

    [Theory]
    [InlineData(GovernanceParameters.VoteMaxProducers, 0, "value")]
    [InlineData(GovernanceParameters.VoteMaxProducers, 51, "value")]
    [InlineData(GovernanceParameters.ProposalMaxLifetimeHours, 0, "value")]
    [InlineData(GovernanceParameters.ProposalMaxLifetimeHours, 8761, "value")]
    [InlineData("vote.min-producers", 3, "parameter")]
    public void Apply_SetParameterOutOfRangeOrUnknown_IsRefused(string parameter, long value, string field)
    {
        var state = _keys.NewState();

        Assert.Equal(field, Refused(state, new SetParameter(parameter, value)).Field);
    }

    // ---------------------------------------------------------------- votes

    [Fact]
    public void Apply_Vote_RecordsTheHoldersVote()
    {
        var state = _keys.NewState();
        var holder = _keys.NewKey(secp256k1: true);

        state.Apply(TestCommittee.Vote(holder, 1, "osat-b", "fab-a"), Now);

        var vote = state.VoteOf(TestCommittee.Account(holder));
        Assert.NotNull(vote);
        Assert.Equal(1, vote.Value.Sequence);
        Assert.Equal(["fab-a", "osat-b"], vote.Value.Producers);
    }

    [Fact]
    public void Apply_VoteWhoseHolderIsNotTheKeysThumbprint_IsRefused()
    {
        var state = _keys.NewState();
        var holder = _keys.NewKey();
        var other = _keys.NewKey();
        var payload = new VotePayload(TestCommittee.Domain, TestCommittee.Account(other), 1, ["fab-a"]);

        var refused = Assert.Throws<Refused>(() =>
            state.Apply(new VoteRecord(payload.Text, EcPublicJwk.FromECDsa(holder), TestCommittee.Sign(holder, payload.Digest)), Now));

        Assert.Equal("holder", refused.Field);
        Assert.Null(state.VoteOf(TestCommittee.Account(other)));
    }

    [Fact]
    public void Apply_VoteWithBadSignature_IsRefused()
    {
        var state = _keys.NewState();
        var holder = _keys.NewKey();
        var payload = new VotePayload(TestCommittee.Domain, TestCommittee.Account(holder), 1, ["fab-a"]);
        var otherPayload = payload with { Sequence = 2 };

        var refused = Assert.Throws<Refused>(() =>
            state.Apply(new VoteRecord(payload.Text, EcPublicJwk.FromECDsa(holder), TestCommittee.Sign(holder, otherPayload.Digest)), Now));

        Assert.Equal("signature", refused.Field);
    }

    [Fact]
    public void Apply_VoteForAnotherDomain_IsRefused()
    {
        var state = _keys.NewState();
        var holder = _keys.NewKey();
        var payload = new VotePayload("btmc/other/governance", TestCommittee.Account(holder), 1, ["fab-a"]);

        var refused = Assert.Throws<Refused>(() =>
            state.Apply(new VoteRecord(payload.Text, EcPublicJwk.FromECDsa(holder), TestCommittee.Sign(holder, payload.Digest)), Now));

        Assert.Equal("domain", refused.Field);
    }

    [Theory]
    [InlineData(5L)]
    [InlineData(4L)]
    [InlineData(0L)]
    public void Apply_VoteWithoutAHigherSequence_IsRefusedAsConflict(long sequence)
    {
        var state = _keys.NewState();
        var holder = _keys.NewKey();
        state.Apply(TestCommittee.Vote(holder, 5, "fab-a"), Now);

        var refused = Assert.Throws<Refused>(() => state.Apply(TestCommittee.Vote(holder, sequence, "osat-b"), Now));
        state.Apply(TestCommittee.Vote(holder, 6, "osat-b"), Now);

        Assert.Equal("sequence", refused.Field);
        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Equal(6, state.VoteOf(TestCommittee.Account(holder))!.Value.Sequence);
    }

    [Fact]
    public void Apply_VoteForUnknownProducer_IsRefused()
    {
        var state = _keys.NewState(producers: 2);

        var refused = Assert.Throws<Refused>(() => state.Apply(TestCommittee.Vote(_keys.NewKey(), 1, "fab-a", "dist-c"), Now));

        Assert.Equal("producers", refused.Field);
        Assert.Contains("dist-c", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_VoteForMoreThanMaxProducers_IsRefused()
    {
        var state = _keys.NewState(producers: 3);
        _keys.Execute(state, new SetParameter(GovernanceParameters.VoteMaxProducers, 2), Now);
        var holder = _keys.NewKey();

        var refused = Assert.Throws<Refused>(() => state.Apply(TestCommittee.Vote(holder, 1, "fab-a", "osat-b", "dist-c"), Now));
        state.Apply(TestCommittee.Vote(holder, 2, "fab-a", "osat-b"), Now);

        Assert.Equal("producers", refused.Field);
        Assert.Contains(GovernanceParameters.VoteMaxProducers, refused.Message, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- electorate

    [Fact]
    public void Electorate_SumsTheHoldingsOfHoldersWhoseVoteNamesTheProducer()
    {
        var state = _keys.NewState(producers: 3);
        var big = _keys.NewKey();
        var small = _keys.NewKey(secp256k1: true);
        var empty = _keys.NewKey();
        _keys.Execute(state, new AllocateTokens(TestCommittee.Account(big), 100), Now);
        _keys.Execute(state, new AllocateTokens(TestCommittee.Account(small), 30), Now);

        state.Apply(TestCommittee.Vote(big, 1, "fab-a", "osat-b"), Now);
        state.Apply(TestCommittee.Vote(small, 1, "osat-b"), Now);
        state.Apply(TestCommittee.Vote(empty, 1, "fab-a", "dist-c"), Now);

        Assert.Equal([("dist-c", 0L), ("fab-a", 100L), ("osat-b", 130L)], Votes(state));
    }

    [Fact]
    public void Electorate_HoldingsAllocatedAfterTheVote_Count()
    {
        var state = _keys.NewState(producers: 2);
        var holder = _keys.NewKey();
        state.Apply(TestCommittee.Vote(holder, 1, "osat-b"), Now);

        _keys.Execute(state, new AllocateTokens(TestCommittee.Account(holder), 42), Now);

        Assert.Equal([("fab-a", 0L), ("osat-b", 42L)], Votes(state));
    }

    [Fact]
    public void Electorate_ReplacedVote_StopsCounting()
    {
        var state = _keys.NewState(producers: 2);
        var holder = _keys.NewKey();
        _keys.Execute(state, new AllocateTokens(TestCommittee.Account(holder), 100), Now);
        state.Apply(TestCommittee.Vote(holder, 1, "fab-a"), Now);
        Assert.Equal([("fab-a", 100L), ("osat-b", 0L)], Votes(state));

        state.Apply(TestCommittee.Vote(holder, 2, "osat-b"), Now);
        var moved = Votes(state);
        state.Apply(TestCommittee.Vote(holder, 3), Now);

        Assert.Equal([("fab-a", 0L), ("osat-b", 100L)], moved);
        Assert.Equal([("fab-a", 0L), ("osat-b", 0L)], Votes(state));
    }

    [Fact]
    public void Electorate_RemovedProducer_DropsOut()
    {
        var state = _keys.NewState(producers: 3);
        var holder = _keys.NewKey();
        _keys.Execute(state, new AllocateTokens(TestCommittee.Account(holder), 100), Now);
        state.Apply(TestCommittee.Vote(holder, 1, "fab-a", "osat-b"), Now);

        _keys.Execute(state, new RemoveProducer("osat-b"), Now);

        Assert.Equal([("dist-c", 0L), ("fab-a", 100L)], Votes(state));
    }

    // ---------------------------------------------------------------- atomicity and copies

    [Fact]
    public void Apply_RefusedRecords_LeaveTheStateUnchanged()
    {
        var state = _keys.NewState(producers: 2);
        var holder = _keys.NewKey();
        var account = TestCommittee.Account(holder);
        _keys.Execute(state, new AllocateTokens(account, 10), Now);
        state.Apply(TestCommittee.Vote(holder, 1, "fab-a"), Now);
        var blocked = Proposed(state, new AllocateTokens(account, GovernanceState.MaxSupply - 10));
        var open = Proposed(state, new AllocateTokens(account, 5));
        foreach (var member in new[] { "alice", "bob", "carol" })
        {
            state.Apply(_keys.Approval(blocked, member), Now);
        }

        state.Apply(_keys.Approval(open, "dave"), Now);
        _keys.Execute(state, new AllocateTokens(account, 1), Now);
        var before = state.Clone();
        var snapshot = Snapshot(state, account);

        GovernanceRecord[] refused =
        [
            new ExecutionRecord(blocked.Id, ["alice", "bob", "carol"]), // passes every check but the action's
            new ExecutionRecord(open.Id, ["dave"]),
            _keys.Approval(open, "dave"),
            new ApprovalRecord(open.Id, "erin", TestCommittee.Sign(_keys.MemberKey("erin"), blocked.Digest)),
            new ProposalRecord(open.Text),
            TestCommittee.Vote(holder, 1, "osat-b"),
            new CommitteeRecord(_keys.Committee),
            _keys.Genesis(),
        ];
        foreach (var record in refused)
        {
            Assert.Throws<Refused>(() => state.Apply(record, Now));
        }

        Assert.Equal(before.Holdings, state.Holdings);
        Assert.Equal(before.Supply, state.Supply);
        Assert.Equal(before.Proposals, state.Proposals);
        Assert.Equal(before.Committee, state.Committee);
        Assert.Equal(before.Producers, state.Producers);
        Assert.Equal(before.Parameters, state.Parameters);
        Assert.Equal(before.VoteOf(account), state.VoteOf(account));
        Assert.Equal(Votes(before), Votes(state));
        Assert.Equal(snapshot, Snapshot(state, account));
    }

    [Fact]
    public void Clone_AppliedTo_LeavesTheOriginalUnchanged()
    {
        var state = _keys.NewState(producers: 2);
        var payload = Proposed(state);
        state.Apply(_keys.Approval(payload, "alice"), Now);
        var copy = state.Clone();
        var account = TestCommittee.Account(_keys.NewKey());

        copy.Apply(_keys.Approval(payload, "bob"), Now);
        _keys.Execute(copy, new AllocateTokens(account, 9), Now);
        _keys.Execute(copy, new RemoveProducer("osat-b"), Now);
        _keys.Execute(copy, new ReplaceMember("erin", "frank", EcPublicJwk.FromECDsa(_keys.NewKey())), Now);

        Assert.Equal(["alice"], state.Proposals[payload.Id].Approvals.Keys);
        Assert.Empty(state.Holdings);
        Assert.Equal(0, state.Supply);
        Assert.Equal(2, state.Producers.Count);
        Assert.Contains("erin", state.Committee.Keys);
        Assert.Single(state.Proposals);
    }

    private ProposalPayload Proposed(GovernanceState state, ProposalAction? action = null)
    {
        var payload = TestCommittee.Payload(action ?? new SetParameter(GovernanceParameters.VoteMaxProducers, 5), Now);
        state.Apply(new ProposalRecord(payload.Text), Now);
        return payload;
    }

    /// <summary>The refusal of a proposal of <paramref name="action"/>; the state must not record it.</summary>
    private static Refused Refused(GovernanceState state, ProposalAction action)
    {
        var payload = TestCommittee.Payload(action, Now);
        var refused = Assert.Throws<Refused>(() => state.Apply(new ProposalRecord(payload.Text), Now));
        Assert.False(state.Proposals.ContainsKey(payload.Id));
        return refused;
    }

    private static void Apply(GovernanceState state, IEnumerable<GovernanceRecord> records)
    {
        foreach (var record in records)
        {
            state.Apply(record, Now);
        }
    }

    /// <summary>Everything a state holds, written out, so that a change made in place (not only a replaced reference) shows.</summary>
    private static string Snapshot(GovernanceState state, string holder) => string.Join("\n",
        $"supply {state.Supply}",
        string.Join(",", state.Holdings.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}={h.Value}")),
        string.Join(",", state.Committee.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value.ComputeThumbprint()}")),
        string.Join(",", state.Producers.Keys.Order(StringComparer.Ordinal)),
        string.Join(",", state.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")),
        string.Join(",", state.Proposals.Values.OrderBy(p => p.Id, StringComparer.Ordinal)
            .Select(p => $"{p.Id}:{string.Join('+', p.Approvals.Keys.Order(StringComparer.Ordinal))}:{p.ExecutedAt?.ToUnixTimeMilliseconds()}")),
        state.VoteOf(holder) is { } vote ? $"{vote.Sequence}:{string.Join('+', vote.Producers)}" : "no vote");

    private static List<(string, long)> Votes(GovernanceState state) => state.Electorate().Select(c => (c.ProducerId, c.Votes)).ToList();
}
