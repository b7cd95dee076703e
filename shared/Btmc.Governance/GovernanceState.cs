using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Ledger.Transparency;

namespace Btmc.Governance;

/// <summary>A proposal as the governance chain has recorded it so far.</summary>
public sealed record ProposalStatus(ProposalPayload Payload, IReadOnlyDictionary<string, byte[]> Approvals, DateTimeOffset? ExecutedAt)
{
    public string Id => Payload.Id;

    public bool Executed => ExecutedAt is not null;
}

/// <summary>
/// The state the governance chain's records fold into (docs/dpos.md, "Governance records"): the committee, the
/// producer registry, token holdings, votes, parameters and proposals. <see cref="Apply"/> enforces every rule, so the
/// backend (before sealing a record) and an auditor (replaying the chain) reach the same verdicts. Pure; not
/// thread-safe; <see cref="Clone"/> gives a working copy.
/// </summary>
public sealed class GovernanceState
{
    /// <summary>Committee members.</summary>
    public const int CommitteeSize = 5;

    /// <summary>Distinct members' approvals that execute a proposal.</summary>
    public const int Threshold = 3;

    /// <summary>The most tokens that may ever exist: 2⁵³ − 1, so every holding is exact in JSON.</summary>
    public const long MaxSupply = (1L << 53) - 1;

    private Dictionary<string, EcPublicJwk> _committee = new(StringComparer.Ordinal);
    private Dictionary<string, ProducerEntry> _producers = new(StringComparer.Ordinal);
    private Dictionary<string, long> _holdings = new(StringComparer.Ordinal);
    private Dictionary<string, (long Sequence, IReadOnlyList<string> Producers)> _votes = new(StringComparer.Ordinal);
    private Dictionary<string, long> _parameters = GovernanceParameters.Defaults();
    private Dictionary<string, ProposalStatus> _proposals = new(StringComparer.Ordinal);
    private Dictionary<string, Partner> _partners = new(StringComparer.Ordinal);
    private HashSet<string> _approvedDeclarations = new(StringComparer.Ordinal);
    private Dictionary<string, Cosigner> _witnesses = new(StringComparer.Ordinal);

    public GenesisRecord? Genesis { get; private set; }

    /// <summary>The domain id every signed payload must name.</summary>
    public string Domain => Genesis?.Domain ?? throw new InvalidOperationException("There is no genesis yet.");

    public SlotClock Clock => Genesis is { } g ? new SlotClock(g.GenesisTime, g.SlotMilliseconds, g.SlotsPerRound) : throw new InvalidOperationException("There is no genesis yet.");

    public IReadOnlyDictionary<string, EcPublicJwk> Committee => _committee;

    public IReadOnlyDictionary<string, ProducerEntry> Producers => _producers;

    public IReadOnlyDictionary<string, long> Holdings => _holdings;

    public IReadOnlyDictionary<string, long> Parameters => _parameters;

    public IReadOnlyDictionary<string, ProposalStatus> Proposals => _proposals;

    public long Supply { get; private set; }

    /// <summary>The partner registry (docs/partners.md), suspended partners included.</summary>
    public IReadOnlyDictionary<string, Partner> Partners => _partners;

    /// <summary>The registered witnesses (docs/witnesses.md), by name: whose cosignatures the backend accepts and puts into receipts.</summary>
    public IReadOnlyDictionary<string, Cosigner> Witnesses => _witnesses;

    /// <summary>The events whose error declaration the committee approved (executed declare-error proposals).</summary>
    public IReadOnlySet<string> ApprovedErrorDeclarations => _approvedDeclarations;

    /// <summary>A holder's current vote, if any.</summary>
    public (long Sequence, IReadOnlyList<string> Producers)? VoteOf(string holder) => _votes.TryGetValue(holder, out var vote) ? vote : null;

    public GovernanceState Clone() => new()
    {
        Genesis = Genesis,
        Supply = Supply,
        _committee = new(_committee, StringComparer.Ordinal),
        _producers = new(_producers, StringComparer.Ordinal),
        _holdings = new(_holdings, StringComparer.Ordinal),
        _votes = new(_votes, StringComparer.Ordinal),
        _parameters = new(_parameters, StringComparer.Ordinal),
        _proposals = new(_proposals, StringComparer.Ordinal),
        _partners = new(_partners, StringComparer.Ordinal),
        _approvedDeclarations = new(_approvedDeclarations, StringComparer.Ordinal),
        _witnesses = new(_witnesses, StringComparer.Ordinal),
    };

    /// <summary>The producer candidates and their votes: each holder's holdings count for every registered producer their vote names.</summary>
    public IReadOnlyList<ProducerCandidate> Electorate()
    {
        var votes = _producers.Keys.ToDictionary(p => p, _ => 0L, StringComparer.Ordinal);
        foreach (var (holder, vote) in _votes)
        {
            var weight = _holdings.GetValueOrDefault(holder);
            foreach (var producer in vote.Producers)
            {
                if (votes.TryGetValue(producer, out var sum))
                {
                    votes[producer] = sum + weight;
                }
            }
        }

        return _producers.Values.OrderBy(p => p.Producer, StringComparer.Ordinal)
            .Select(p => new ProducerCandidate(p.Producer, p.PublicKey, votes[p.Producer])).ToList();
    }

    /// <summary>The members whose recorded approvals of a proposal count now: current members whose key verifies the signature.</summary>
    public IReadOnlyList<string> CountedApprovals(ProposalStatus proposal) =>
        proposal.Approvals.Where(a => _committee.TryGetValue(a.Key, out var key) && BlockSignature.Verify(key, proposal.Payload.Digest, a.Value))
            .Select(a => a.Key).Order(StringComparer.Ordinal).ToList();

    /// <summary>Applies one record sealed in a block with <paramref name="slotTime"/>; throws, changing nothing, when it breaks a rule.</summary>
    /// <exception cref="Refused">The record breaks a rule; names the field.</exception>
    public void Apply(GovernanceRecord record, DateTimeOffset slotTime)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (Genesis is null && record is not GenesisRecord)
        {
            throw Refused.Invalid("type", "The governance chain starts with its genesis record.");
        }

        switch (record)
        {
            case GenesisRecord genesis:
                ApplyGenesis(genesis);
                break;
            case CommitteeRecord committee:
                if (_committee.Count != 0)
                {
                    throw Refused.Conflict("committee", "The ledger has a committee; only a replace-member proposal changes it.");
                }

                _committee = CheckedCommittee(committee.Committee);
                break;
            case ProposalRecord proposal:
                ApplyProposal(proposal, slotTime);
                break;
            case ApprovalRecord approval:
                ApplyApproval(approval, slotTime);
                break;
            case ExecutionRecord execution:
                ApplyExecution(execution, slotTime);
                break;
            case VoteRecord vote:
                ApplyVote(vote);
                break;
            case PartnerChangeRecord change:
                ApplyPartnerChange(change, slotTime);
                break;
            case PartnersImportRecord import:
                ApplyPartnersImport(import, slotTime);
                break;
            case WitnessChangeRecord change:
                ExecuteWitnessAction(CheckWitnessChange(change.Change, change.By).Action);
                break;
            default:
                throw Refused.Invalid("type", $"Unknown governance record {record.GetType().Name}.");
        }
    }

    /// <summary>Checks that <paramref name="action"/> can be carried out now, without changing anything.</summary>
    public void CheckAction(ProposalAction action)
    {
        switch (action)
        {
            case AddProducer add:
                PayloadFields.ProducerId(add.Producer, "producer");
                if (_producers.ContainsKey(add.Producer))
                {
                    throw Refused.Conflict("producer", $"Producer '{add.Producer}' is registered already.");
                }

                var thumbprint = add.PublicKey.ComputeThumbprint();
                if (_producers.Values.Any(p => p.PublicKey.ComputeThumbprint() == thumbprint))
                {
                    throw Refused.Conflict("public-key", "Another producer is registered with this key.");
                }

                break;
            case RemoveProducer remove:
                if (!_producers.ContainsKey(remove.Producer))
                {
                    throw Refused.Conflict("producer", $"Producer '{remove.Producer}' is not registered.");
                }

                if (_producers.Count == 1)
                {
                    throw Refused.Conflict("producer", "The last producer cannot be removed: no block could be signed.");
                }

                break;
            case ReplaceMember replace:
                if (!_committee.ContainsKey(replace.Member))
                {
                    throw Refused.Conflict("member", $"'{replace.Member}' is not a committee member.");
                }

                if (_committee.ContainsKey(replace.NewMember))
                {
                    throw Refused.Conflict("new-member", $"'{replace.NewMember}' is a committee member already.");
                }

                var newKey = replace.PublicKey.ComputeThumbprint();
                if (_committee.Values.Any(k => k.ComputeThumbprint() == newKey))
                {
                    throw Refused.Conflict("public-key", "Another member holds this key; every member signs with their own.");
                }

                break;
            case AllocateTokens allocate:
                if (allocate.Amount <= 0)
                {
                    throw Refused.Invalid("amount", "An allocation is at least 1 token.");
                }

                if (allocate.Amount > MaxSupply - Supply)
                {
                    throw Refused.Conflict("amount", $"The supply would pass {MaxSupply} tokens.");
                }

                break;
            case AddPartner add:
                if (_partners.ContainsKey(add.Partner.Id))
                {
                    throw Refused.Conflict("partner", $"Partner '{add.Partner.Id}' is registered already.");
                }

                CheckKeysFree(add.Partner);
                break;
            case UpdatePartner update:
                if (!_partners.ContainsKey(update.Partner.Id))
                {
                    throw Refused.Conflict("partner", $"Partner '{update.Partner.Id}' is not registered.");
                }

                CheckKeysFree(update.Partner);
                break;
            case SuspendPartner suspend:
                if (!_partners.ContainsKey(suspend.Partner))
                {
                    throw Refused.Conflict("partner", $"Partner '{suspend.Partner}' is not registered.");
                }

                break;
            case DeclareError:
                break;
            case AddWitness add:
                if (_witnesses.ContainsKey(add.Witness.Name))
                {
                    throw Refused.Conflict("witness", $"Witness '{add.Witness.Name}' is registered already; remove it first to change its key.");
                }

                if (_witnesses.Values.Any(w => w.PublicKey.AsSpan().SequenceEqual(add.Witness.PublicKey)))
                {
                    throw Refused.Conflict("verifier-key", "Another witness is registered with this public key; every witness has its own.");
                }

                break;
            case RemoveWitness remove:
                if (!_witnesses.ContainsKey(remove.Witness))
                {
                    throw Refused.Conflict("witness", $"Witness '{remove.Witness}' is not registered.");
                }

                break;
            case SetParameter set:
                if (!GovernanceParameters.Known.TryGetValue(set.Parameter, out var range))
                {
                    throw Refused.Invalid("parameter", $"Unknown parameter '{set.Parameter}'; known: {string.Join(", ", GovernanceParameters.Known.Keys)}.");
                }

                if (set.Value < range.Min || set.Value > range.Max)
                {
                    throw Refused.Invalid("value", $"{set.Parameter} must be between {range.Min} and {range.Max}.");
                }

                break;
        }
    }

    /// <summary>Checks a proposal payload against the state at <paramref name="now"/>: domain, expiry, unused nonce, action.</summary>
    public void CheckProposal(ProposalPayload payload, DateTimeOffset now)
    {
        if (!string.Equals(payload.Domain, Domain, StringComparison.Ordinal))
        {
            throw Refused.Invalid("domain", $"The proposal is for domain '{payload.Domain}'; this ledger is '{Domain}'.");
        }

        if (payload.Expires <= now)
        {
            throw Refused.Conflict("expires", $"The proposal expired at {SignedText.FormatTime(payload.Expires)}.");
        }

        var maxLifetime = TimeSpan.FromHours(_parameters[GovernanceParameters.ProposalMaxLifetimeHours]);
        if (payload.Expires > now + maxLifetime)
        {
            throw Refused.Invalid("expires", $"A proposal expires within {maxLifetime.TotalHours:0} hours ({GovernanceParameters.ProposalMaxLifetimeHours}).");
        }

        if (_proposals.ContainsKey(payload.Id))
        {
            throw Refused.Conflict("nonce", $"Proposal {payload.Id} exists already.");
        }

        if (_committee.Count == 0)
        {
            throw Refused.Conflict("committee", "The ledger has no committee yet.");
        }

        CheckAction(payload.Action);
    }

    /// <summary>Checks one member's approval of a recorded proposal at <paramref name="now"/>.</summary>
    public ProposalStatus CheckApproval(string proposalId, string member, ReadOnlySpan<byte> signature, DateTimeOffset now)
    {
        if (!_proposals.TryGetValue(proposalId, out var proposal))
        {
            throw Refused.Invalid("proposal", $"There is no proposal {proposalId}.");
        }

        if (proposal.Executed)
        {
            throw Refused.Conflict("proposal", $"Proposal {proposalId} has been executed.");
        }

        if (proposal.Payload.Expires <= now)
        {
            throw Refused.Conflict("proposal", $"Proposal {proposalId} expired at {SignedText.FormatTime(proposal.Payload.Expires)}.");
        }

        if (!_committee.TryGetValue(member, out var key))
        {
            throw Refused.Invalid("member", $"'{member}' is not a committee member.");
        }

        if (proposal.Approvals.ContainsKey(member))
        {
            throw Refused.Conflict("member", $"Member '{member}' has approved proposal {proposalId} already.");
        }

        if (!BlockSignature.Verify(key, proposal.Payload.Digest, signature))
        {
            throw Refused.Invalid("signature", $"The signature does not verify with member '{member}''s key over proposal {proposalId}'s digest (SHA-256 of its payload text).");
        }

        return proposal;
    }

    /// <summary>Checks a signed vote: canonical, this domain, signed by the holder's key, a higher sequence, registered producers.</summary>
    public VotePayload CheckVote(string payloadText, EcPublicJwk publicKey, ReadOnlySpan<byte> signature)
    {
        var vote = VotePayload.Parse(payloadText);
        if (!string.Equals(vote.Domain, Domain, StringComparison.Ordinal))
        {
            throw Refused.Invalid("domain", $"The vote is for domain '{vote.Domain}'; this ledger is '{Domain}'.");
        }

        string thumbprint;
        try
        {
            thumbprint = publicKey.ComputeThumbprint();
        }
        catch (ArgumentException ex)
        {
            throw Refused.Invalid("publicKey", $"The public key is malformed: {ex.Message}");
        }

        if (!string.Equals(thumbprint, vote.Holder, StringComparison.Ordinal))
        {
            throw Refused.Invalid("holder", "The holder is not the thumbprint of the public key given.");
        }

        if (!BlockSignature.Verify(publicKey, vote.Digest, signature))
        {
            throw Refused.Invalid("signature", "The signature does not verify with the holder's key over the vote's digest.");
        }

        if (_votes.TryGetValue(vote.Holder, out var earlier) && vote.Sequence <= earlier.Sequence)
        {
            throw Refused.Conflict("sequence", $"The holder's last vote has sequence {earlier.Sequence}; a new vote needs a higher one.");
        }

        var max = _parameters[GovernanceParameters.VoteMaxProducers];
        if (vote.Producers.Count > max)
        {
            throw Refused.Invalid("producers", $"A vote names at most {max} producers ({GovernanceParameters.VoteMaxProducers}).");
        }

        if (vote.Producers.FirstOrDefault(p => !_producers.ContainsKey(p)) is { } unknown)
        {
            throw Refused.Invalid("producers", $"Producer '{unknown}' is not registered.");
        }

        return vote;
    }

    private void ApplyGenesis(GenesisRecord genesis)
    {
        if (Genesis is not null)
        {
            throw Refused.Conflict("type", "The governance chain has its genesis already.");
        }

        try
        {
            _ = new SlotClock(genesis.GenesisTime, genesis.SlotMilliseconds, genesis.SlotsPerRound).Validated();
        }
        catch (ArgumentException ex)
        {
            throw Refused.Invalid("genesis", ex.Message);
        }

        if (genesis.Producers.Count == 0)
        {
            throw Refused.Invalid("producers", "Genesis registers at least one producer.");
        }

        var producers = new Dictionary<string, ProducerEntry>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var producer in genesis.Producers)
        {
            PayloadFields.ProducerId(producer.Producer, "producers");
            if (!keys.Add(producer.PublicKey.ComputeThumbprint()) || !producers.TryAdd(producer.Producer, producer))
            {
                throw Refused.Invalid("producers", $"Producer '{producer.Producer}' or its key is listed twice; each producer has its own key.");
            }
        }

        _committee = genesis.Committee.Count == 0 ? new(StringComparer.Ordinal) : CheckedCommittee(genesis.Committee);
        _producers = producers;
        Genesis = genesis;
    }

    private static Dictionary<string, EcPublicJwk> CheckedCommittee(IReadOnlyList<MemberKey> members)
    {
        if (members.Count != CommitteeSize)
        {
            throw Refused.Invalid("committee", $"The committee has exactly {CommitteeSize} members; {members.Count} were given.");
        }

        var committee = new Dictionary<string, EcPublicJwk>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in members)
        {
            PayloadFields.ProducerId(member.Member, "committee");
            if (!keys.Add(member.PublicKey.ComputeThumbprint()) || !committee.TryAdd(member.Member, member.PublicKey))
            {
                throw Refused.Invalid("committee", $"Member '{member.Member}' or their key is listed twice; each member has their own key.");
            }
        }

        return committee;
    }

    private void ApplyProposal(ProposalRecord record, DateTimeOffset slotTime)
    {
        var payload = ProposalPayload.Parse(record.Payload);
        CheckProposal(payload, slotTime);
        _proposals[payload.Id] = new ProposalStatus(payload, new Dictionary<string, byte[]>(StringComparer.Ordinal), null);
    }

    private void ApplyApproval(ApprovalRecord record, DateTimeOffset slotTime)
    {
        var signature = DecodeSignature(record.Signature);
        var proposal = CheckApproval(record.Proposal, record.Member, signature, slotTime);
        var approvals = new Dictionary<string, byte[]>(proposal.Approvals, StringComparer.Ordinal) { [record.Member] = signature };
        _proposals[proposal.Id] = proposal with { Approvals = approvals };
    }

    private void ApplyExecution(ExecutionRecord record, DateTimeOffset slotTime)
    {
        if (!_proposals.TryGetValue(record.Proposal, out var proposal))
        {
            throw Refused.Invalid("proposal", $"There is no proposal {record.Proposal}.");
        }

        if (proposal.Executed)
        {
            throw Refused.Conflict("proposal", $"Proposal {record.Proposal} has been executed already.");
        }

        if (proposal.Payload.Expires <= slotTime)
        {
            throw Refused.Conflict("proposal", $"Proposal {record.Proposal} expired before it was executed.");
        }

        var counted = CountedApprovals(proposal);
        if (counted.Count < Threshold || !counted.SequenceEqual(record.Approvals))
        {
            throw Refused.Invalid("approvals", $"Proposal {record.Proposal} has {counted.Count} valid approvals of current members ({string.Join(", ", counted)}); {Threshold} are needed and the execution must list them.");
        }

        CheckAction(proposal.Payload.Action);
        switch (proposal.Payload.Action)
        {
            case AddProducer add:
                _producers[add.Producer] = new ProducerEntry(add.Producer, add.KeyReference, add.PublicKey);
                break;
            case RemoveProducer remove:
                _producers.Remove(remove.Producer);
                break;
            case ReplaceMember replace:
                _committee.Remove(replace.Member);
                _committee[replace.NewMember] = replace.PublicKey;
                break;
            case AllocateTokens allocate:
                _holdings[allocate.Account] = _holdings.GetValueOrDefault(allocate.Account) + allocate.Amount;
                Supply += allocate.Amount;
                break;
            case SetParameter set:
                _parameters[set.Parameter] = set.Value;
                break;
            case DeclareError declare:
                _approvedDeclarations.Add(declare.EventId);
                break;
            case AddWitness or RemoveWitness:
                ExecuteWitnessAction(proposal.Payload.Action);
                break;
            default:
                ExecutePartnerAction(proposal.Payload.Action, slotTime);
                break;
        }

        _proposals[proposal.Id] = proposal with { ExecutedAt = slotTime };
    }

    /// <summary>Checks an operator's direct partner change: only on a ledger without a committee (with one, partner
    /// changes are proposals), only by an active operator.</summary>
    public PartnerChange CheckPartnerChange(string changeText, string by)
    {
        var change = PartnerChange.Parse(changeText);
        if (_committee.Count > 0)
        {
            throw Refused.Conflict("committee", $"This ledger has a committee: partners change by {change.Action.Name} proposals approved by {Threshold} of its {CommitteeSize} members.");
        }

        CheckOperator(by, "partner registry");
        CheckAction(change.Action);
        return change;
    }

    /// <summary>Checks an operator's direct witness change: only on a ledger without a committee (with one, witness
    /// changes are proposals), only by an active operator.</summary>
    public WitnessChange CheckWitnessChange(string changeText, string by)
    {
        var change = WitnessChange.Parse(changeText);
        if (_committee.Count > 0)
        {
            throw Refused.Conflict("committee", $"This ledger has a committee: witnesses change by {change.Action.Name} proposals approved by {Threshold} of its {CommitteeSize} members.");
        }

        CheckOperator(by, "witness registry");
        CheckAction(change.Action);
        return change;
    }

    private void CheckOperator(string by, string registry)
    {
        if (!_partners.TryGetValue(by, out var operatorPartner) || operatorPartner.Suspended || !operatorPartner.Spec.Roles.HasFlag(PartnerRoles.Operator))
        {
            throw Refused.Forbidden("partner", $"'{by}' is not an active partner with role operator: only an operator changes the {registry} directly.");
        }
    }

    private void ExecuteWitnessAction(ProposalAction action)
    {
        switch (action)
        {
            case AddWitness add:
                _witnesses[add.Witness.Name] = add.Witness;
                break;
            case RemoveWitness remove:
                _witnesses.Remove(remove.Witness);
                break;
            default:
                throw new InvalidOperationException($"{action.Name} is not a witness action.");
        }
    }

    private void ApplyPartnerChange(PartnerChangeRecord record, DateTimeOffset slotTime)
    {
        var change = CheckPartnerChange(record.Change, record.By);
        ExecutePartnerAction(change.Action, slotTime);
    }

    private void ApplyPartnersImport(PartnersImportRecord record, DateTimeOffset slotTime)
    {
        if (_partners.Count > 0)
        {
            throw Refused.Conflict("partners", "The partner registry has partners already; the first partners are imported once.");
        }

        foreach (var text in record.Changes)
        {
            var change = PartnerChange.Parse(text);
            if (change.Action is not AddPartner)
            {
                throw Refused.Invalid("partners", "An import only adds partners.");
            }

            CheckAction(change.Action);
            ExecutePartnerAction(change.Action, slotTime);
        }
    }

    private void ExecutePartnerAction(ProposalAction action, DateTimeOffset slotTime)
    {
        switch (action)
        {
            case AddPartner add:
                _partners[add.Partner.Id] = new Partner(add.Partner, add.Partner.ApiKeySha256.Select(k => new PartnerApiKey(k, null)).ToList(), false, slotTime);
                break;
            case UpdatePartner update:
                var current = _partners[update.Partner.Id];
                var retireAt = slotTime.AddSeconds(update.KeyOverlapSeconds);
                var keys = update.Partner.ApiKeySha256.Select(k => new PartnerApiKey(k, null)).ToList();
                foreach (var old in current.ApiKeys.Where(k => !update.Partner.ApiKeySha256.Contains(k.Sha256, StringComparer.Ordinal)))
                {
                    // A replaced key keeps working for the overlap (never longer than it already had), then never again.
                    var notAfter = old.NotAfter is { } earlier && earlier < retireAt ? earlier : retireAt;
                    if (notAfter > slotTime)
                    {
                        keys.Add(old with { NotAfter = notAfter });
                    }
                }

                _partners[update.Partner.Id] = current with { Spec = update.Partner, ApiKeys = keys, UpdatedAt = slotTime };
                break;
            case SuspendPartner suspend:
                _partners[suspend.Partner] = _partners[suspend.Partner] with { Suspended = suspend.Suspended, UpdatedAt = slotTime };
                break;
            default:
                throw new InvalidOperationException($"{action.Name} is not a partner action.");
        }
    }

    /// <summary>An API key belongs to one partner: another partner holding the same key could act as it. And a company
    /// prefix to one owner: GS1 prefixes never prefix one another, so two owned prefixes where one starts the other
    /// are a registry mistake that would let one company see and commission the other's identifiers
    /// (<c>*</c>, the one-company default, is exempt).</summary>
    private void CheckKeysFree(PartnerSpec spec)
    {
        foreach (var other in _partners.Values.Where(p => p.Id != spec.Id))
        {
            if (spec.Prefixes.Where(p => p != Caller.AnyPrefix).FirstOrDefault(p => other.Spec.Prefixes.Any(o => o != Caller.AnyPrefix
                    && (o.StartsWith(p, StringComparison.Ordinal) || p.StartsWith(o, StringComparison.Ordinal)))) is { } taken)
            {
                throw Refused.Conflict("prefixes", $"Prefix {taken} overlaps a prefix partner '{other.Id}' owns; every company prefix has one owner.");
            }

            if (other.ApiKeys.Any(k => spec.ApiKeySha256.Contains(k.Sha256, StringComparer.Ordinal)))
            {
                throw Refused.Conflict("api-keys", $"An API key listed is partner '{other.Id}''s; every partner has its own keys.");
            }

            if (other.Spec.PrincipalIds.Any(p => spec.PrincipalIds.Contains(p, StringComparer.OrdinalIgnoreCase)))
            {
                throw Refused.Conflict("principal-ids", $"A principal listed signs in as partner '{other.Id}'.");
            }
        }
    }

    private void ApplyVote(VoteRecord record)
    {
        var vote = CheckVote(record.Payload, record.PublicKey, DecodeSignature(record.Signature));
        _votes[vote.Holder] = (vote.Sequence, vote.Producers);
    }

    internal static byte[] DecodeSignature(string base64)
    {
        try
        {
            var bytes = Convert.FromBase64String(base64);
            return bytes.Length == BlockSignature.SignatureSize
                ? bytes
                : throw Refused.Invalid("signature", $"A signature is {BlockSignature.SignatureSize} bytes (r‖s), base64.");
        }
        catch (FormatException)
        {
            throw Refused.Invalid("signature", "The signature is not base64.");
        }
    }
}
