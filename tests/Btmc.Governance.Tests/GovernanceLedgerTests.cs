using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Keys;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Btmc.Governance.Tests;

public sealed class GovernanceLedgerTests : IDisposable
{
    private readonly GovernanceHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task StartAsync_EmptyStore_SealsGenesisAtSlotZeroSignedByItsProducer()
    {
        var ledger = await _harness.StartAsync();

        var chain = await _harness.ReadChainAsync();
        var (block, records) = Assert.Single(chain);
        var genesis = Assert.IsType<GenesisRecord>(Assert.Single(records));
        Assert.Equal(0, block.Header.Height);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(genesis.GenesisTime), block.Header.SlotTime);
        Assert.Equal("btmc/test/governance", genesis.Domain);
        Assert.Equal(SlotClock.MinSlotMilliseconds, genesis.SlotMilliseconds);
        Assert.Equal(TestCommittee.Members, genesis.Committee.Select(m => m.Member));
        Assert.Equal(TestCommittee.ProducerIds, genesis.Producers.Select(p => p.Producer));
        Assert.All(genesis.Producers, p => Assert.Null(p.PublicKey.Kid));
        Assert.Equal(block.BlockHash, ledger.Head!.BlockHash);
        Assert.Equal(ledger.State.Domain, genesis.Domain);
        Assert.Null(await _harness.VerifyAsync(ledger.Rules));
    }

    [Fact]
    public async Task StartAsync_SecondLedgerOverTheSameStore_AdoptsTheSealedGenesisWhateverItsSettings()
    {
        var first = await _harness.StartAsync();
        var strangers = Enumerable.Range(0, 5).Select(i => new MemberKey($"stranger-{i}", EcPublicJwk.FromECDsa(_harness.Keys.NewKey()))).ToList();

        var second = await _harness.StartAsync(_harness.Settings("elsewhere", SlotClock.DefaultSlotMilliseconds, strangers));

        var genesis = Assert.IsType<GenesisRecord>(Assert.Single(Assert.Single(await _harness.ReadChainAsync()).Records));
        Assert.Equal(first.State.Domain, second.State.Domain);
        Assert.Equal("btmc/test/governance", second.State.Domain);
        Assert.Equal(first.Rules.Clock, second.Rules.Clock);
        Assert.Equal(SlotClock.MinSlotMilliseconds, second.Rules.Clock.SlotMilliseconds);
        Assert.Equal(genesis.GenesisTime, second.State.Genesis!.GenesisTime);
        Assert.Equal(TestCommittee.Members, second.State.Committee.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(first.Head, second.Head);
    }

    [Fact]
    public async Task StartAsync_TwoInstancesOnAnEmptyStoreAtOnce_SealOneGenesisAndBothAdoptIt()
    {
        // Both build a genesis and reach its commit together; the one that loses height 0 adopts the winner's.
        var gated = new InterceptedTables(_harness.Tables);
        gated.MeetAtCommit(2);

        var ledgers = await Task.WhenAll(_harness.StartAsync(tables: gated), _harness.StartAsync(_harness.Settings("elsewhere"), tables: gated));

        var (block, records) = Assert.Single(await _harness.ReadChainAsync());
        var genesis = Assert.IsType<GenesisRecord>(Assert.Single(records));
        Assert.All(ledgers, ledger =>
        {
            Assert.Equal(genesis.Domain, ledger.State.Domain);
            Assert.Equal(genesis.GenesisTime, ledger.State.Genesis!.GenesisTime);
            Assert.Equal(block.BlockHash, ledger.Head!.BlockHash);
        });
        Assert.Equal(2, gated.Arrived);
    }

    [Fact]
    public async Task StartAsync_LedgerWithoutCommittee_SealsTheConfiguredCommitteeOnce()
    {
        var bare = await _harness.StartAsync(_harness.Settings(committee: []));
        Assert.Empty(bare.State.Committee);
        var strangers = Enumerable.Range(0, 5).Select(i => new MemberKey($"stranger-{i}", EcPublicJwk.FromECDsa(_harness.Keys.NewKey()))).ToList();

        var configured = await _harness.StartAsync();
        var later = await _harness.StartAsync(_harness.Settings(committee: strangers));

        var chain = await _harness.ReadChainAsync();
        Assert.Equal(2, chain.Count);
        Assert.IsType<CommitteeRecord>(Assert.Single(chain[1].Records));
        Assert.Equal(TestCommittee.Members, configured.State.Committee.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TestCommittee.Members, later.State.Committee.Keys.Order(StringComparer.Ordinal));
        Assert.Null(await _harness.VerifyAsync(later.Rules));
    }

    [Fact]
    public async Task SubmitAsync_EachCall_CommitsOneBlockInALaterSlotSignedByTheSlotsProducer()
    {
        var ledger = await _harness.StartAsync();
        var blocks = new List<GovernanceBlock>();

        for (var i = 0; i < 6; i++)
        {
            var payload = GovernanceHarness.Payload(ledger, new SetParameter(GovernanceParameters.VoteMaxProducers, 10 + i));
            blocks.Add((await ledger.SubmitAsync((_, _) => [new ProposalRecord(payload.Text)]))!);
        }

        var chain = await _harness.ReadChainAsync();
        Assert.Equal(7, chain.Count);
        Assert.Equal([1L, 2, 3, 4, 5, 6], blocks.Select(b => b.Height));
        var clock = ledger.Rules.Clock;
        for (var i = 0; i < blocks.Count; i++)
        {
            var stored = chain[i + 1].Block.Header;
            Assert.Equal(blocks[i].SlotTime, stored.SlotTime);
            Assert.Equal(blocks[i].ProducerId, stored.ProducerId);
            Assert.NotNull(clock.SlotOf(stored.SlotTime));
            Assert.True(stored.SlotTime > chain[i].Block.Header.SlotTime, $"block {i + 1} is not in a later slot than block {i}");
            Assert.Equal(_harness.Producers.Single(p => p.Producer == stored.ProducerId).Key.KeyId, stored.KeyId);
            Assert.Equal(blocks[i].Records.Select(r => r.RecordId), chain[i + 1].Records.Select(r => r.RecordId));
        }

        Assert.Null(await _harness.VerifyAsync(ledger.Replay.Rules!));
        Assert.Equal(6, ledger.State.Proposals.Count);
    }

    [Fact]
    public async Task SubmitAsync_BlockSignedByAnotherProducer_FailsVerification()
    {
        // The check of the test above can fail: the same chain under rules that give every slot to one other producer
        // does not verify.
        var ledger = await _harness.StartAsync();
        var payload = GovernanceHarness.Payload(ledger, new SetParameter(GovernanceParameters.VoteMaxProducers, 10));
        await ledger.SubmitAsync((_, _) => [new ProposalRecord(payload.Text)]);
        var genesisProducer = (await _harness.ReadChainAsync())[0].Block.Header.ProducerId;
        var other = ledger.State.Producers.Values.First(p => p.Producer != genesisProducer);
        var rules = ledger.Rules with { Electorate = _ => [new ProducerCandidate(other.Producer, other.PublicKey, 0)] };

        var fault = await _harness.VerifyAsync(rules);

        Assert.NotNull(fault);
        Assert.Equal(0, fault.Height);
        Assert.Contains($"belongs to producer '{other.Producer}'", fault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitAsync_BuildReturningNoRecords_SealsNothing()
    {
        var ledger = await _harness.StartAsync();

        var block = await ledger.SubmitAsync((_, _) => []);

        Assert.Null(block);
        Assert.Single(await _harness.ReadChainAsync());
    }

    [Fact]
    public async Task SubmitAsync_RecordsBreakingARule_AreRefusedAndNothingIsSealed()
    {
        var ledger = await _harness.StartAsync();
        var payload = GovernanceHarness.Payload(ledger, new AllocateTokens(TestCommittee.Account(_harness.Keys.NewKey()), 5));

        var refused = await Assert.ThrowsAsync<Refused>(() =>
            ledger.SubmitAsync((_, _) => [new ProposalRecord(payload.Text), new ExecutionRecord(payload.Id, ["alice", "bob", "carol"])]));
        var thrown = await Assert.ThrowsAsync<Refused>(() =>
            ledger.SubmitAsync((state, slot) => { state.CheckProposal(payload with { Domain = "btmc/other/governance" }, slot); return []; }));

        Assert.Equal("approvals", refused.Field);
        Assert.Equal("domain", thrown.Field);
        Assert.Single(await _harness.ReadChainAsync());
        Assert.Empty(ledger.State.Proposals);
    }

    [Fact]
    public async Task SyncAsync_FreshLedgerOverTheSameStore_ReplaysToTheSameState()
    {
        var ledger = await _harness.StartAsync();
        var service = new GovernanceService(ledger, TimeProvider.System);
        var holder = _harness.Keys.NewKey(secp256k1: true);
        var account = TestCommittee.Account(holder);
        await _harness.ExecuteAsync(service, new AllocateTokens(account, 1_000));
        await _harness.ExecuteAsync(service, new SetParameter(GovernanceParameters.VoteMaxProducers, 7));
        var vote = TestCommittee.Vote(holder, 1, "fab-a", "osat-b");
        await service.VoteAsync(vote.Payload, vote.PublicKey, vote.Signature);
        var open = await _harness.ProposeAsync(service, new RemoveProducer("dist-c"), "dave", "erin");

        var fresh = await _harness.StartAsync(_harness.Settings("elsewhere"));

        Assert.Equal(Snapshot(ledger.State), Snapshot(fresh.State));
        Assert.Equal(ledger.Head, fresh.Head);
        Assert.Equal(ledger.Replay.Blocks, fresh.Replay.Blocks);
        Assert.Equal(1_000, fresh.State.Holdings[account]);
        Assert.Equal(["dave", "erin"], fresh.State.CountedApprovals(fresh.State.Proposals[open.Id]));
        var lastRound = ledger.Rules.Clock.RoundOf(ledger.Rules.Clock.SlotOf(ledger.Replay.LastSlotTime!.Value)!.Value) + 2;
        for (var round = 0L; round <= lastRound; round++)
        {
            Assert.Equal(Votes(ledger.Replay.ElectorateFor(round)), Votes(fresh.Replay.ElectorateFor(round)));
        }
    }

    [Fact]
    public async Task SubmitAsync_TwoInstancesApprovingTheSameProposalAtOnce_ExecuteItOnce()
    {
        var first = await _harness.StartAsync();
        var second = await _harness.StartAsync();
        var services = new[] { new GovernanceService(first, TimeProvider.System), new GovernanceService(second, TimeProvider.System) };
        var account = TestCommittee.Account(_harness.Keys.NewKey());
        var payload = await _harness.ProposeAsync(services[0], new AllocateTokens(account, 77), "alice");

        // Each instance gets two members' approvals at once; whichever third approval is sealed first executes.
        var attempts = new[] { ("bob", 0), ("carol", 1), ("dave", 0), ("erin", 1) }
            .Select(a => Outcome(services[a.Item2].ApproveAsync(payload.Id, a.Item1, _harness.Signature(payload, a.Item1))))
            .ToList();
        var outcomes = await Task.WhenAll(attempts);

        var chain = await _harness.ReadChainAsync();
        var records = chain.SelectMany(c => c.Records).ToList();
        var execution = Assert.Single(records.OfType<ExecutionRecord>());
        var approvals = records.OfType<ApprovalRecord>().Where(a => a.Proposal == payload.Id).Select(a => a.Member).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(approvals, execution.Approvals);
        Assert.Equal(3, approvals.Count);
        Assert.Equal(2, outcomes.Count(o => o is null));
        Assert.All(outcomes.OfType<Exception>(), ex =>
        {
            var refused = Assert.IsType<Refused>(ex);
            Assert.True(refused.Kind == RefusalKind.Conflict, refused.Message);
            Assert.Contains("has been executed", refused.Message, StringComparison.Ordinal);
        });
        await first.SyncAsync();
        await second.SyncAsync();
        Assert.Equal(77, first.State.Holdings[account]);
        Assert.Equal(77, second.State.Holdings[account]);
        Assert.Equal(77, second.State.Supply);
        var (audit, replay) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();
        Assert.True(audit.IsValid, audit.Fault?.Reason);
        Assert.Equal(chain.Count, audit.Blocks);
        Assert.Equal(77, replay.State.Holdings[account]);
    }

    [Fact]
    public async Task SubmitAsync_TwoInstancesExecutingTheSameProposalAtTheSameHeight_OneCommitsAndTheOtherIsRefused()
    {
        var gated = new InterceptedTables(_harness.Tables);
        var first = await _harness.StartAsync(tables: gated);
        var second = await _harness.StartAsync(tables: gated);
        var services = new[] { new GovernanceService(first, TimeProvider.System), new GovernanceService(second, TimeProvider.System) };
        var account = TestCommittee.Account(_harness.Keys.NewKey());
        var payload = await _harness.ProposeAsync(services[0], new AllocateTokens(account, 77), "alice", "bob");
        await second.SyncAsync();

        // Both instances build the third approval and the execution on the same head, and reach the commit point
        // together: one inserts the block row, the other loses the height, reads the chain again and builds again.
        gated.MeetAtCommit(2);
        var outcomes = await Task.WhenAll(
            Outcome(services[0].ApproveAsync(payload.Id, "carol", _harness.Signature(payload, "carol"))),
            Outcome(services[1].ApproveAsync(payload.Id, "dave", _harness.Signature(payload, "dave"))));

        var chain = await _harness.ReadChainAsync();
        var records = chain.SelectMany(c => c.Records).ToList();
        var execution = Assert.Single(records.OfType<ExecutionRecord>());
        var approvals = records.OfType<ApprovalRecord>().Select(a => a.Member).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(approvals, execution.Approvals);
        Assert.Equal(3, approvals.Count);
        Assert.Single(outcomes, o => o is null);
        var refused = Assert.IsType<Refused>(Assert.Single(outcomes, o => o is not null));
        Assert.True(refused.Kind == RefusalKind.Conflict, refused.Message);
        Assert.Contains("has been executed", refused.Message, StringComparison.Ordinal);
        var entries = await _harness.Tables.GetTableClient("entries").QueryAsync(new Btmc.Platform.Tables.TableQuery());
        Assert.True(chain.Count + 1 == entries.Items.Select(e => e.PartitionKey).Distinct().Count(), "the losing instance's block was written but never committed");
        await first.SyncAsync();
        await second.SyncAsync();
        Assert.Equal(77, first.State.Holdings[account]);
        Assert.Equal(77, second.State.Holdings[account]);
        var (audit, replay) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();
        Assert.True(audit.IsValid, audit.Fault?.Reason);
        Assert.Equal(77, replay.State.Supply);
    }

    [Theory]
    [InlineData(2)] // while the scheduler prepares the round of the slot it picked
    [InlineData(3)] // after the turn came, just before the records are built
    public async Task SubmitAsync_AnotherInstanceTakesTheSlotWhileThisOneLooksForItsTurn_SealsInTheNextSlot(int takenAtRead)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var intercepted = new InterceptedTables(_harness.Tables);
        var first = await _harness.StartAsync(time: clock);
        var second = await _harness.StartAsync(tables: intercepted, time: clock);
        clock.SetUtcNow(first.Rules.Clock.SlotStart(5).AddMilliseconds(10));
        var theirs = GovernanceHarness.Payload(first, new SetParameter(GovernanceParameters.VoteMaxProducers, 11));
        var ours = GovernanceHarness.Payload(first, new SetParameter(GovernanceParameters.VoteMaxProducers, 12));

        // The second instance reads height 1 when it starts to submit, picks slot 5 (the current one), reads height 1
        // again while the scheduler prepares slot 5's round, and once more when its turn has come: at one of these
        // reads the first instance seals slot 5.
        GovernanceBlock? taken = null;
        var reads = 0;
        intercepted.BeforeBlockRead = async rowKey =>
        {
            if (rowKey == Btmc.Chains.ChainTables.HeightKey(1) && ++reads == takenAtRead)
            {
                taken = await first.SubmitAsync((_, _) => [new ProposalRecord(theirs.Text)]);
                // Slot 5 is gone: the fake clock moves into slot 6, where the second instance's turn comes without a wait.
                clock.SetUtcNow(first.Rules.Clock.SlotStart(6).AddMilliseconds(10));
            }
        };
        var block = await second.SubmitAsync((_, _) => [new ProposalRecord(ours.Text)]);

        Assert.NotNull(taken);
        Assert.Equal((1L, first.Rules.Clock.SlotStart(5)), (taken.Height, taken.SlotTime));
        Assert.NotNull(block);
        Assert.Equal((2L, first.Rules.Clock.SlotStart(6)), (block.Height, block.SlotTime));
        Assert.Null(await _harness.VerifyAsync(second.Rules));
        Assert.True(second.State.Proposals.ContainsKey(theirs.Id));
        Assert.True(second.State.Proposals.ContainsKey(ours.Id));
    }

    [Fact]
    public async Task SyncAsync_ProducerAddedByProposalWhoseKeyThisProcessHolds_StartsSigningItsSlots()
    {
        var key = _harness.OpenKey("pkg-d.pem");
        var asked = new List<ProducerEntry>();
        var ledger = await _harness.StartAsync(openProducerKey: (producer, _) =>
        {
            asked.Add(producer);
            return Task.FromResult<ISigningKey?>(producer.Key == "pkg-d.pem" ? _harness.OpenKey(producer.Key) : null);
        });
        var service = new GovernanceService(ledger, TimeProvider.System);

        await _harness.ExecuteAsync(service, new AddProducer("pkg-d", "pkg-d.pem", key.PublicKey with { Kid = null }));

        Assert.Equal(["pkg-d"], asked.Select(p => p.Producer));
        var clock = ledger.Rules.Clock;
        var executedRound = clock.RoundOf(clock.SlotOf(ledger.Replay.LastSlotTime!.Value)!.Value);
        Assert.DoesNotContain(ledger.Replay.ElectorateFor(executedRound + 1), c => c.ProducerId == "pkg-d");
        Assert.Contains(ledger.Replay.ElectorateFor(executedRound + 2), c => c.ProducerId == "pkg-d");

        // The new producer is drawn from round executed + 2 on: wait for that round, then seal until one of its slots comes.
        var wait = clock.RoundStart(executedRound + 2) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        GovernanceBlock? signed = null;
        var deadline = clock.RoundStart(executedRound + 4);
        while (signed is null && DateTimeOffset.UtcNow < deadline)
        {
            var payload = GovernanceHarness.Payload(ledger, new SetParameter(GovernanceParameters.VoteMaxProducers, 5));
            var block = await ledger.SubmitAsync((_, _) => [new ProposalRecord(payload.Text)]);
            signed = block!.ProducerId == "pkg-d" ? block : null;
        }

        Assert.NotNull(signed);
        Assert.True(clock.RoundOf(clock.SlotOf(signed.SlotTime)!.Value) >= executedRound + 2);
        var header = (await _harness.ReadChainAsync())[(int)signed.Height].Block.Header;
        Assert.Equal(key.KeyId, header.KeyId);
        Assert.Null(await _harness.VerifyAsync(ledger.Rules));
        var (audit, _) = await new LedgerAuditor(_harness.Store().Reader).AuditGovernanceAsync();
        Assert.True(audit.IsValid, audit.Fault?.Reason);
    }

    private static async Task<Exception?> Outcome(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private static string Snapshot(GovernanceState state) => string.Join("\n",
        state.Domain,
        $"supply {state.Supply}",
        string.Join(",", state.Holdings.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}={h.Value}")),
        string.Join(",", state.Committee.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value.ComputeThumbprint()}")),
        string.Join(",", state.Producers.Values.OrderBy(p => p.Producer, StringComparer.Ordinal).Select(p => $"{p.Producer}={p.Key}={p.PublicKey.ComputeThumbprint()}")),
        string.Join(",", state.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")),
        string.Join(",", state.Proposals.Values.OrderBy(p => p.Id, StringComparer.Ordinal)
            .Select(p => $"{p.Id}:{string.Join('+', state.CountedApprovals(p))}:{p.ExecutedAt?.ToUnixTimeMilliseconds()}")),
        string.Join(",", Votes(state.Electorate())));

    private static List<string> Votes(IEnumerable<ProducerCandidate> electorate) =>
        electorate.OrderBy(c => c.ProducerId, StringComparer.Ordinal).Select(c => $"{c.ProducerId}={c.Votes}").ToList();
}
