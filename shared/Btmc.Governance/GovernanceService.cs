using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>A proposal as the API shows it.</summary>
public sealed record ProposalView(
    string Id,
    string Payload,
    string Action,
    DateTimeOffset Expires,
    IReadOnlyList<string> Approvals,
    int Threshold,
    string Status,
    DateTimeOffset? ExecutedAt,
    string? Blocked)
{
    internal static ProposalView Of(GovernanceState state, ProposalStatus proposal, DateTimeOffset now, string? blocked = null) => new(
        proposal.Id,
        proposal.Payload.Text,
        proposal.Payload.Action.Name,
        proposal.Payload.Expires,
        state.CountedApprovals(proposal),
        GovernanceState.Threshold,
        proposal.Executed ? "executed" : proposal.Payload.Expires <= now ? "expired" : "open",
        proposal.ExecutedAt,
        blocked);
}

/// <summary>A holder's vote as the API shows it.</summary>
public sealed record VoteView(string Holder, long Sequence, IReadOnlyList<string> Producers, long Weight);

/// <summary>
/// The committee's and token holders' requests: each is checked against the ledger's state, then sealed in the
/// governance chain before it is answered. The backend only verifies signatures: members and holders sign on their own
/// machines (or with their own Key Vault keys), and it never holds their private keys.
/// </summary>
public sealed class GovernanceService(GovernanceLedger ledger, TimeProvider time)
{
    public GovernanceLedger Ledger => ledger;

    /// <summary>
    /// Records a new proposal with its proposer's approval (a member's signature of its digest). Submitting the same
    /// proposal again records only a new member's approval, or nothing.
    /// </summary>
    /// <exception cref="Refused">The payload, member or signature is wrong, or the proposal cannot be made now.</exception>
    public async Task<(ProposalView Proposal, bool Created)> ProposeAsync(string payloadText, string member, string signature, CancellationToken cancellationToken = default)
    {
        var payload = ProposalPayload.Parse(payloadText);
        var signatureBytes = GovernanceState.DecodeSignature(signature);
        var created = false;
        await ledger.SubmitAsync((state, slot) =>
        {
            if (state.Proposals.ContainsKey(payload.Id))
            {
                created = false;
                return ApprovalRecords(state, payload.Id, member, signatureBytes, slot, out _);
            }

            state.CheckProposal(payload, slot);
            created = true;
            var withProposal = state.Clone();
            withProposal.Apply(new ProposalRecord(payload.Text), slot);
            return [new ProposalRecord(payload.Text), .. ApprovalRecords(withProposal, payload.Id, member, signatureBytes, slot, out _)];
        }, cancellationToken).ConfigureAwait(false);
        return ((await ShowAsync(payload.Id, cancellationToken).ConfigureAwait(false))!, created);
    }

    /// <summary>
    /// Records one member's approval; with the third valid distinct approval the proposal is executed in the same block.
    /// Repeating an approval already recorded changes nothing.
    /// </summary>
    /// <exception cref="Refused">Unknown proposal or member, a bad signature, a second different approval, an executed or expired proposal.</exception>
    public async Task<ProposalView> ApproveAsync(string proposalId, string member, string signature, CancellationToken cancellationToken = default)
    {
        var signatureBytes = GovernanceState.DecodeSignature(signature);
        string? blocked = null;
        await ledger.SubmitAsync((state, slot) => ApprovalRecords(state, proposalId, member, signatureBytes, slot, out blocked), cancellationToken).ConfigureAwait(false);
        var view = await ShowAsync(proposalId, cancellationToken).ConfigureAwait(false) ?? throw Refused.Invalid("proposal", $"There is no proposal {proposalId}.");
        return view with { Blocked = view.ExecutedAt is null ? blocked : null };
    }

    /// <summary>Records a holder's signed vote (replacing their earlier one). The same vote again changes nothing.</summary>
    /// <exception cref="Refused">The vote is malformed, mis-signed, not newer, or names unknown producers.</exception>
    public async Task<VoteView> VoteAsync(string payloadText, EcPublicJwk publicKey, string signature, CancellationToken cancellationToken = default)
    {
        var signatureBytes = GovernanceState.DecodeSignature(signature);
        var vote = VotePayload.Parse(payloadText);
        await ledger.SubmitAsync((state, _) =>
        {
            if (state.VoteOf(vote.Holder) is { } current && current.Sequence == vote.Sequence && current.Producers.SequenceEqual(vote.Producers))
            {
                return [];
            }

            state.CheckVote(payloadText, publicKey, signatureBytes);
            return [new VoteRecord(payloadText, publicKey with { Kid = null }, signature)];
        }, cancellationToken).ConfigureAwait(false);
        return (await VoteOfAsync(vote.Holder, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>The state as the governance chain holds it now: blocks other instances committed are read first.</summary>
    public async Task<GovernanceState> StateAsync(CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        return ledger.State;
    }

    public async Task<ProposalView?> ShowAsync(string proposalId, CancellationToken cancellationToken = default)
    {
        var state = await StateAsync(cancellationToken).ConfigureAwait(false);
        return state.Proposals.TryGetValue(proposalId, out var proposal) ? ProposalView.Of(state, proposal, time.GetUtcNow()) : null;
    }

    public async Task<IReadOnlyList<ProposalView>> ListAsync(CancellationToken cancellationToken = default)
    {
        var state = await StateAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return state.Proposals.Values.Select(p => ProposalView.Of(state, p, now)).OrderBy(p => p.Expires).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
    }

    public async Task<VoteView?> VoteOfAsync(string holder, CancellationToken cancellationToken = default)
    {
        var state = await StateAsync(cancellationToken).ConfigureAwait(false);
        return state.VoteOf(holder) is { } vote ? new VoteView(holder, vote.Sequence, vote.Producers, state.Holdings.GetValueOrDefault(holder)) : null;
    }

    /// <summary>The approval record, and the execution record when it completes the threshold and the action can be carried out.</summary>
    private static IReadOnlyList<GovernanceRecord> ApprovalRecords(GovernanceState state, string proposalId, string member, byte[] signature, DateTimeOffset slot, out string? blocked)
    {
        blocked = null;
        if (state.Proposals.TryGetValue(proposalId, out var existing) && existing.Approvals.TryGetValue(member, out var recorded)
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(recorded, signature))
        {
            return []; // this very approval is recorded already
        }

        state.CheckApproval(proposalId, member, signature, slot);
        var approval = new ApprovalRecord(proposalId, member, Convert.ToBase64String(signature));
        var after = state.Clone();
        after.Apply(approval, slot);
        var proposal = after.Proposals[proposalId];
        var counted = after.CountedApprovals(proposal);
        if (counted.Count < GovernanceState.Threshold)
        {
            return [approval];
        }

        try
        {
            after.CheckAction(proposal.Payload.Action);
        }
        catch (Refused ex)
        {
            blocked = ex.Message;
            return [approval];
        }

        return [approval, new ExecutionRecord(proposalId, counted)];
    }
}
