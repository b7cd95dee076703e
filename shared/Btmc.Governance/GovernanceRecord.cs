using System.Text.Json;
using System.Text.Json.Serialization;
using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>A committee member and the public key their approvals verify with.</summary>
public sealed record MemberKey(string Member, EcPublicJwk PublicKey);

/// <summary>A registered block producer: its name, where its signing key lives (a Key Vault key id, or a key file name
/// in the embedded default) and its public key.</summary>
public sealed record ProducerEntry(string Producer, string Key, EcPublicJwk PublicKey);

/// <summary>
/// One entry of the governance chain, stored as JSON (docs/dpos.md, "Governance records"). The ledger leaf is
/// <c>LedgerEntry(RecordId, SHA-256(stored JSON bytes), Actor)</c>, so a record is sealed exactly as it was written.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(GenesisRecord), "genesis")]
[JsonDerivedType(typeof(CommitteeRecord), "committee")]
[JsonDerivedType(typeof(ProposalRecord), "proposal")]
[JsonDerivedType(typeof(ApprovalRecord), "approval")]
[JsonDerivedType(typeof(ExecutionRecord), "execution")]
[JsonDerivedType(typeof(VoteRecord), "vote")]
[JsonDerivedType(typeof(PartnerChangeRecord), "partner")]
[JsonDerivedType(typeof(PartnersImportRecord), "partners-import")]
[JsonDerivedType(typeof(WitnessChangeRecord), "witness")]
public abstract record GovernanceRecord
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The ledger id of the record's entry.</summary>
    [JsonIgnore]
    public abstract string RecordId { get; }

    /// <summary>Who the entry is attributed to (the leaf's partner field).</summary>
    [JsonIgnore]
    public abstract string Actor { get; }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <exception cref="FormatException">The bytes are not a governance record.</exception>
    public static GovernanceRecord FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize<GovernanceRecord>(json, Json) ?? throw new FormatException("The governance record is null.");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException)
        {
            throw new FormatException($"Not a governance record: {ex.Message}", ex);
        }
    }
}

/// <summary>The first record: the deployment, its domain id, the slot clock, the first committee and producers.</summary>
public sealed record GenesisRecord(
    string Deployment,
    string Domain,
    long GenesisTime,
    int SlotMilliseconds,
    int SlotsPerRound,
    IReadOnlyList<MemberKey> Committee,
    IReadOnlyList<ProducerEntry> Producers) : GovernanceRecord
{
    public override string RecordId => "governance:genesis";

    public override string Actor => "genesis";
}

/// <summary>The first committee of a ledger whose genesis had none: accepted once, while the committee is empty.</summary>
public sealed record CommitteeRecord(IReadOnlyList<MemberKey> Committee) : GovernanceRecord
{
    public override string RecordId => "governance:committee";

    public override string Actor => "operator";
}

/// <summary>A proposal, as the canonical payload its members sign.</summary>
public sealed record ProposalRecord(string Payload) : GovernanceRecord
{
    public override string RecordId => $"governance:proposal:{ProposalPayload.Parse(Payload).Id}";

    public override string Actor => "committee";
}

/// <summary>One member's signature of a proposal's digest (base64 r‖s).</summary>
public sealed record ApprovalRecord(string Proposal, string Member, string Signature) : GovernanceRecord
{
    public override string RecordId => $"governance:approval:{Proposal}:{Member}";

    public override string Actor => Member;
}

/// <summary>A proposal carried out, with the members whose approvals counted.</summary>
public sealed record ExecutionRecord(string Proposal, IReadOnlyList<string> Approvals) : GovernanceRecord
{
    public override string RecordId => $"governance:execution:{Proposal}";

    public override string Actor => "committee";
}

/// <summary>A token holder's signed vote, with the key it verifies with (whose thumbprint is the holder).</summary>
public sealed record VoteRecord(string Payload, EcPublicJwk PublicKey, string Signature) : GovernanceRecord
{
    public override string RecordId
    {
        get
        {
            var vote = VotePayload.Parse(Payload);
            return $"governance:vote:{vote.Holder}:{vote.Sequence}";
        }
    }

    public override string Actor => VotePayload.Parse(Payload).Holder;
}

/// <summary>
/// A partner change an operator made directly, on a ledger without a committee (docs/partners.md): the change as
/// canonical text (<see cref="PartnerChange"/>) and the operator partner who made it.
/// </summary>
public sealed record PartnerChangeRecord(string Change, string By) : GovernanceRecord
{
    public override string RecordId => $"governance:partner:{PartnerChange.Parse(Change).Id}";

    public override string Actor => By;
}

/// <summary>The registry's first partners, sealed by the deployment on first start (the operator and the embedded
/// default's <c>local</c> partner, or an imported partners.json); accepted once, while no partner was ever registered.</summary>
public sealed record PartnersImportRecord(IReadOnlyList<string> Changes) : GovernanceRecord
{
    public override string RecordId => "governance:partners-import";

    public override string Actor => "deployment";
}

/// <summary>
/// A witness change an operator made directly, on a ledger without a committee (docs/witnesses.md): the change as
/// canonical text (<see cref="WitnessChange"/>) and the operator partner who made it.
/// </summary>
public sealed record WitnessChangeRecord(string Change, string By) : GovernanceRecord
{
    public override string RecordId => $"governance:witness:{WitnessChange.Parse(Change).Id}";

    public override string Actor => By;
}
