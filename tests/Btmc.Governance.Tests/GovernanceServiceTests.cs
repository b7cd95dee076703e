using Btmc.Ledger;
using Xunit;

namespace Btmc.Governance.Tests;

public sealed class GovernanceServiceTests : IDisposable
{
    private readonly GovernanceHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task ProposeAsync_NewProposal_SealsItWithTheProposersApprovalInOneBlock()
    {
        var service = await StartAsync();
        var payload = GovernanceHarness.Payload(service.Ledger, new SetParameter(GovernanceParameters.VoteMaxProducers, 9));

        var (view, created) = await service.ProposeAsync(payload.Text, "carol", _harness.Signature(payload, "carol"));

        Assert.True(created);
        Assert.Equal(payload.Id, view.Id);
        Assert.Equal(payload.Text, view.Payload);
        Assert.Equal("open", view.Status);
        Assert.Equal(["carol"], view.Approvals);
        Assert.Equal(GovernanceState.Threshold, view.Threshold);
        var last = (await _harness.ReadChainAsync())[^1].Records;
        Assert.Equal([$"governance:proposal:{payload.Id}", $"governance:approval:{payload.Id}:carol"], last.Select(r => r.RecordId));
    }

    [Fact]
    public async Task ProposeAsync_SameProposalByAnotherMember_RecordsOnlyTheirApproval()
    {
        var service = await StartAsync();
        var payload = GovernanceHarness.Payload(service.Ledger, new SetParameter(GovernanceParameters.VoteMaxProducers, 9));
        await service.ProposeAsync(payload.Text, "carol", _harness.Signature(payload, "carol"));

        var (view, created) = await service.ProposeAsync(payload.Text, "dave", _harness.Signature(payload, "dave"));

        Assert.False(created);
        Assert.Equal(["carol", "dave"], view.Approvals);
        Assert.IsType<ApprovalRecord>(Assert.Single((await _harness.ReadChainAsync())[^1].Records));
    }

    [Fact]
    public async Task ProposeAsync_WithASignatureThatDoesNotVerify_SealsNothing()
    {
        var service = await StartAsync();
        var payload = GovernanceHarness.Payload(service.Ledger, new SetParameter(GovernanceParameters.VoteMaxProducers, 9));
        var blocks = (await _harness.ReadChainAsync()).Count;

        var refused = await Assert.ThrowsAsync<Refused>(() => service.ProposeAsync(payload.Text, "carol", _harness.Signature(payload, "dave")));

        Assert.Equal("signature", refused.Field);
        Assert.Null(await service.ShowAsync(payload.Id));
        Assert.Equal(blocks, (await _harness.ReadChainAsync()).Count);
    }

    [Fact]
    public async Task ApproveAsync_SameApprovalAgain_SealsNothing()
    {
        var service = await StartAsync();
        var payload = await _harness.ProposeAsync(service, new SetParameter(GovernanceParameters.VoteMaxProducers, 9), "alice");
        var signature = _harness.Signature(payload, "bob");
        await service.ApproveAsync(payload.Id, "bob", signature);
        var blocks = (await _harness.ReadChainAsync()).Count;

        var view = await service.ApproveAsync(payload.Id, "bob", signature);

        Assert.Equal(["alice", "bob"], view.Approvals);
        Assert.Equal(blocks, (await _harness.ReadChainAsync()).Count);
    }

    [Fact]
    public async Task ApproveAsync_ThirdApproval_ExecutesTheProposalInTheSameBlock()
    {
        var service = await StartAsync();
        var account = TestCommittee.Account(_harness.Keys.NewKey());
        var payload = await _harness.ProposeAsync(service, new AllocateTokens(account, 12), "erin", "bob");

        var view = await service.ApproveAsync(payload.Id, "dave", _harness.Signature(payload, "dave"));

        Assert.Equal("executed", view.Status);
        Assert.NotNull(view.ExecutedAt);
        Assert.Null(view.Blocked);
        Assert.Equal(["bob", "dave", "erin"], view.Approvals);
        var last = (await _harness.ReadChainAsync())[^1].Records;
        Assert.IsType<ApprovalRecord>(last[0]);
        Assert.Equal(["bob", "dave", "erin"], Assert.IsType<ExecutionRecord>(last[1]).Approvals);
        Assert.Equal(12, service.Ledger.State.Holdings[account]);
    }

    [Fact]
    public async Task ApproveAsync_ThirdApprovalOfAnActionThatCannotBeCarriedOut_RecordsTheApprovalAndSaysWhy()
    {
        var service = await StartAsync();
        var first = await _harness.ProposeAsync(service, new RemoveProducer("osat-b"), "alice", "bob");
        var second = await _harness.ProposeAsync(service, new RemoveProducer("osat-b"), "alice", "bob");
        await service.ApproveAsync(first.Id, "carol", _harness.Signature(first, "carol"));

        var view = await service.ApproveAsync(second.Id, "carol", _harness.Signature(second, "carol"));

        Assert.Equal("open", view.Status);
        Assert.Equal(["alice", "bob", "carol"], view.Approvals);
        Assert.Contains("osat-b", view.Blocked, StringComparison.Ordinal);
        Assert.IsType<ApprovalRecord>(Assert.Single((await _harness.ReadChainAsync())[^1].Records));
    }

    [Fact]
    public async Task ApproveAsync_ExecutedProposal_IsRefusedAsConflict()
    {
        var service = await StartAsync();
        var payload = await _harness.ExecuteAsync(service, new SetParameter(GovernanceParameters.VoteMaxProducers, 9));

        var refused = await Assert.ThrowsAsync<Refused>(() => service.ApproveAsync(payload.Id, "dave", _harness.Signature(payload, "dave")));

        Assert.Equal(RefusalKind.Conflict, refused.Kind);
        Assert.Equal(9, service.Ledger.State.Parameters[GovernanceParameters.VoteMaxProducers]);
    }

    [Fact]
    public async Task VoteAsync_Vote_IsSealedWithTheHoldersWeightAndTheSameVoteAgainSealsNothing()
    {
        var service = await StartAsync();
        var holder = _harness.Keys.NewKey(secp256k1: true);
        var account = TestCommittee.Account(holder);
        await _harness.ExecuteAsync(service, new AllocateTokens(account, 300));
        var vote = TestCommittee.Vote(holder, 1, "osat-b", "dist-c");
        var withKid = vote.PublicKey with { Kid = account };

        var view = await service.VoteAsync(vote.Payload, withKid, vote.Signature);
        var blocks = (await _harness.ReadChainAsync()).Count;
        var again = await service.VoteAsync(vote.Payload, withKid, vote.Signature);

        Assert.Equal(new VoteView(account, 1, view.Producers, 300), view);
        Assert.Equal(["dist-c", "osat-b"], view.Producers);
        Assert.Equal(view.Sequence, again.Sequence);
        Assert.Equal(blocks, (await _harness.ReadChainAsync()).Count);
        var sealedVote = Assert.IsType<VoteRecord>(Assert.Single((await _harness.ReadChainAsync())[^1].Records));
        Assert.Null(sealedVote.PublicKey.Kid);
        Assert.Equal([("dist-c", 300L), ("fab-a", 0L), ("osat-b", 300L)], service.Ledger.State.Electorate().Select(c => (c.ProducerId, c.Votes)));
    }

    [Fact]
    public async Task List_Proposals_AreOrderedByExpiryAndShowTheirStatus()
    {
        var service = await StartAsync();
        var later = ProposalPayload.Create(service.Ledger.State.Domain, DateTimeOffset.UtcNow.AddDays(2), new SetParameter(GovernanceParameters.VoteMaxProducers, 8));
        await service.ProposeAsync(later.Text, "alice", _harness.Signature(later, "alice"));
        var sooner = await _harness.ExecuteAsync(service, new SetParameter(GovernanceParameters.VoteMaxProducers, 9));

        var list = await service.ListAsync();

        Assert.Equal([sooner.Id, later.Id], list.Select(p => p.Id));
        Assert.Equal(["executed", "open"], list.Select(p => p.Status));
    }

    private async Task<GovernanceService> StartAsync() => new(await _harness.StartAsync(), TimeProvider.System);
}
