using Btmc.Ledger;
using Xunit;

namespace Btmc.Governance.Tests;

/// <summary>A replay under a clock of 1 s slots and 10 slots per round: round r is slots 10r .. 10r + 9.</summary>
public sealed class GovernanceReplayTests : IDisposable
{
    private const int SlotsPerRound = 10;

    private readonly TestCommittee _keys = new();

    public void Dispose() => _keys.Dispose();

    [Fact]
    public void ApplyBlock_Genesis_SetsRulesFromIt()
    {
        var replay = new GovernanceReplay();

        replay.ApplyBlock(Slot(0), [Genesis()]);

        Assert.NotNull(replay.Rules);
        Assert.Equal(TestCommittee.Domain, replay.Rules.Domain);
        Assert.Equal(new Btmc.Ledger.Dpos.SlotClock(TestCommittee.GenesisTime.ToUnixTimeMilliseconds(), 1000, SlotsPerRound), replay.Rules.Clock);
        Assert.Equal(1, replay.Blocks);
        Assert.Equal(Slot(0), replay.LastSlotTime);
        Assert.Equal(["fab-a"], Ids(replay.Rules.Electorate(0)));
    }

    [Fact]
    public void ElectorateFor_BeforeGenesis_IsEmpty()
    {
        Assert.Empty(new GovernanceReplay().ElectorateFor(5));
    }

    [Fact]
    public void ElectorateFor_RoundsZeroAndOne_UseTheGenesisState()
    {
        var replay = Started();

        replay.ApplyBlock(Slot(1), Add("osat-b", 1));
        replay.ApplyBlock(Slot(12), Add("dist-c", 12));

        Assert.Equal(["fab-a"], Ids(replay.ElectorateFor(0)));
        Assert.Equal(["fab-a"], Ids(replay.ElectorateFor(1)));
        Assert.Equal(["fab-a", "osat-b"], Ids(replay.ElectorateFor(2)));
        Assert.Equal(["dist-c", "fab-a", "osat-b"], Ids(replay.ElectorateFor(3)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void ElectorateFor_BlockInRoundQ_ChangesTheElectorateFromRoundQPlus2(int q)
    {
        var replay = Started();

        replay.ApplyBlock(Slot((q * SlotsPerRound) + 3), Add("osat-b", (q * SlotsPerRound) + 3));

        Assert.Equal(["fab-a"], Ids(replay.ElectorateFor(q)));
        Assert.Equal(["fab-a"], Ids(replay.ElectorateFor(q + 1)));
        Assert.Equal(["fab-a", "osat-b"], Ids(replay.ElectorateFor(q + 2)));
        Assert.Equal(["fab-a", "osat-b"], Ids(replay.ElectorateFor(q + 50)));
    }

    [Theory]
    [InlineData(9, 2)]
    [InlineData(10, 3)]
    [InlineData(19, 3)]
    [InlineData(20, 4)]
    public void ElectorateFor_BlockAtARoundBoundary_CountsFromTheRoundAfterTheNextStarts(long slot, long firstRound)
    {
        // Round r reads the state after the last block whose slot time is before RoundStart(r − 1).
        var replay = Started();

        replay.ApplyBlock(Slot(slot), Add("osat-b", slot));

        Assert.Equal(["fab-a"], Ids(replay.ElectorateFor(firstRound - 1)));
        Assert.Equal(["fab-a", "osat-b"], Ids(replay.ElectorateFor(firstRound)));
    }

    [Fact]
    public void ElectorateFor_SeveralBlocks_UsesTheLastOneBeforeTheCutoff()
    {
        var replay = Started(producers: 2);
        var holder = _keys.NewKey();
        replay.ApplyBlock(Slot(2), _keys.Executed(new AllocateTokens(TestCommittee.Account(holder), 100), Slot(2)));
        replay.ApplyBlock(Slot(5), [TestCommittee.Vote(holder, 1, "fab-a")]);
        replay.ApplyBlock(Slot(9), [TestCommittee.Vote(holder, 2, "osat-b")]);
        replay.ApplyBlock(Slot(14), [TestCommittee.Vote(holder, 3, "fab-a", "osat-b")]);
        replay.ApplyBlock(Slot(31), Add("dist-c", 31));

        Assert.Equal([("fab-a", 0L), ("osat-b", 0L)], Votes(replay.ElectorateFor(1)));
        Assert.Equal([("fab-a", 0L), ("osat-b", 100L)], Votes(replay.ElectorateFor(2)));
        Assert.Equal([("fab-a", 100L), ("osat-b", 100L)], Votes(replay.ElectorateFor(3)));
        Assert.Equal([("fab-a", 100L), ("osat-b", 100L)], Votes(replay.ElectorateFor(4)));
        Assert.Equal([("dist-c", 0L), ("fab-a", 100L), ("osat-b", 100L)], Votes(replay.ElectorateFor(5)));
        Assert.Equal(Votes(replay.State.Electorate()), Votes(replay.ElectorateFor(5)));
    }

    [Fact]
    public void ElectorateFor_RemovedProducer_DropsOutTwoRoundsLater()
    {
        var replay = Started(producers: 3);

        replay.ApplyBlock(Slot(25), _keys.Executed(new RemoveProducer("osat-b"), Slot(25)));

        Assert.Equal(["dist-c", "fab-a", "osat-b"], Ids(replay.ElectorateFor(3)));
        Assert.Equal(["dist-c", "fab-a"], Ids(replay.ElectorateFor(4)));
    }

    [Fact]
    public void ApplyBlock_RecordBreakingARule_ChangesNothing()
    {
        var replay = Started();
        replay.ApplyBlock(Slot(4), Add("osat-b", 4));
        var state = replay.State;
        var payload = TestCommittee.Payload(new AllocateTokens(TestCommittee.Account(_keys.NewKey()), 5), Slot(15));
        var forged = new ApprovalRecord(payload.Id, "alice", TestCommittee.Sign(_keys.MemberKey("bob"), payload.Digest));

        var refused = Assert.Throws<Refused>(() =>
            replay.ApplyBlock(Slot(15), [new ProposalRecord(payload.Text), _keys.Approval(payload, "bob"), forged]));

        Assert.Equal("signature", refused.Field);
        Assert.StartsWith("Record 2 (ApprovalRecord): ", refused.Message, StringComparison.Ordinal);
        Assert.Same(state, replay.State);
        Assert.False(replay.State.Proposals.ContainsKey(payload.Id));
        Assert.Equal(2, replay.Blocks);
        Assert.Equal(Slot(4), replay.LastSlotTime);
        Assert.Equal(["fab-a", "osat-b"], Ids(replay.ElectorateFor(100)));
    }

    [Fact]
    public void ApplyBlock_NonGenesisFirst_IsRefusedAndLeavesNoRules()
    {
        var replay = new GovernanceReplay();

        Assert.Throws<Refused>(() => replay.ApplyBlock(Slot(0), [new CommitteeRecord(_keys.Committee)]));

        Assert.Null(replay.Rules);
        Assert.Equal(0, replay.Blocks);
        Assert.Null(replay.LastSlotTime);
    }

    [Fact]
    public void Preview_ValidRecords_GivesTheNextStateWithoutApplyingIt()
    {
        var replay = Started();
        var state = replay.State;

        var next = replay.Preview(Slot(3), Add("osat-b", 3));

        Assert.Contains("osat-b", next.Producers.Keys);
        Assert.Same(state, replay.State);
        Assert.DoesNotContain("osat-b", replay.State.Producers.Keys);
        Assert.Equal(1, replay.Blocks);
    }

    [Fact]
    public void State_AfterApplyBlock_IsANewSnapshotAndTheOldOneStaysAsItWas()
    {
        var replay = Started();
        var before = replay.State;

        replay.ApplyBlock(Slot(3), Add("osat-b", 3));

        Assert.NotSame(before, replay.State);
        Assert.Equal(["fab-a"], before.Producers.Keys);
        Assert.Equal(["fab-a", "osat-b"], replay.State.Producers.Keys.Order(StringComparer.Ordinal));
    }

    private GenesisRecord Genesis(int producers = 1) => _keys.Genesis(producers, slotMilliseconds: 1000, slotsPerRound: SlotsPerRound);

    private GovernanceReplay Started(int producers = 1)
    {
        var replay = new GovernanceReplay();
        replay.ApplyBlock(Slot(0), [Genesis(producers)]);
        return replay;
    }

    /// <summary>A block's records that register <paramref name="producer"/> (proposed, approved and executed in one block).</summary>
    private IReadOnlyList<GovernanceRecord> Add(string producer, long slot) =>
        _keys.Executed(new AddProducer(producer, $"{producer}.pem", EcPublicJwk.FromECDsa(_keys.ProducerKey(producer))), Slot(slot));

    private static DateTimeOffset Slot(long slot) => TestCommittee.GenesisTime.AddSeconds(slot);

    private static List<string> Ids(IEnumerable<Btmc.Ledger.Dpos.ProducerCandidate> electorate) =>
        electorate.Select(c => c.ProducerId).Order(StringComparer.Ordinal).ToList();

    private static List<(string, long)> Votes(IEnumerable<Btmc.Ledger.Dpos.ProducerCandidate> electorate) =>
        electorate.OrderBy(c => c.ProducerId, StringComparer.Ordinal).Select(c => (c.ProducerId, c.Votes)).ToList();
}
