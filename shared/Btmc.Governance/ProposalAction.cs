using System.Text.Json;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Ledger.Transparency;

namespace Btmc.Governance;

/// <summary>What a committee proposal does when executed; each action has its own payload lines, in a fixed order.</summary>
public abstract record ProposalAction
{
    /// <summary>The <c>action:</c> line's value.</summary>
    public abstract string Name { get; }

    internal abstract IEnumerable<(string Name, string Value)> Lines();

    internal static ProposalAction Parse(string action, Dictionary<string, string> values)
    {
        string Get(string name) => SignedText.Required(values, name, "proposal");
        return action switch
        {
            AddProducer.ActionName => new AddProducer(PayloadFields.ProducerId(Get("producer"), "producer"), PayloadFields.KeyReference(Get("key")), PayloadFields.PublicKey(Get("public-key"))),
            RemoveProducer.ActionName => new RemoveProducer(PayloadFields.ProducerId(Get("producer"), "producer")),
            ReplaceMember.ActionName => new ReplaceMember(PayloadFields.ProducerId(Get("member"), "member"), PayloadFields.ProducerId(Get("new-member"), "new-member"), PayloadFields.PublicKey(Get("public-key"))),
            AllocateTokens.ActionName => new AllocateTokens(PayloadFields.Account(Get("account")), SignedText.ParseNonNegative(Get("amount"), "amount")),
            SetParameter.ActionName => new SetParameter(Get("parameter"), SignedText.ParseNonNegative(Get("value"), "value")),
            AddPartner.ActionName => new AddPartner(PartnerSpec.Parse(Get)),
            UpdatePartner.ActionName => new UpdatePartner(PartnerSpec.Parse(Get), UpdatePartner.CheckedOverlap(SignedText.ParseNonNegative(Get("key-overlap-seconds"), "key-overlap-seconds"))),
            SuspendPartner.ActionName => new SuspendPartner(PayloadFields.ProducerId(Get("partner"), "partner"), Get("suspended") switch
            {
                "true" => true,
                "false" => false,
                var other => throw Refused.Invalid("suspended", $"'{other}' is not true or false."),
            }),
            DeclareError.ActionName => new DeclareError(DeclareError.CheckedEventId(Get("event"))),
            AddWitness.ActionName => AddWitness.Parse(Get("witness"), Get("verifier-key")),
            RemoveWitness.ActionName => new RemoveWitness(PayloadFields.WitnessName(Get("witness"))),
            _ => throw Refused.Invalid("action", $"Unknown action '{action}'; expected add-producer, remove-producer, replace-member, allocate-tokens, set-parameter, add-partner, update-partner, suspend-partner, declare-error, add-witness or remove-witness."),
        };
    }
}

/// <summary>Registers a block producer candidate: its name, where its signing key lives, and its public key.</summary>
public sealed record AddProducer(string Producer, string KeyReference, EcPublicJwk PublicKey) : ProposalAction
{
    public const string ActionName = "add-producer";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() =>
        [("producer", Producer), ("key", KeyReference), ("public-key", PayloadFields.FormatKey(PublicKey))];
}

/// <summary>Removes a producer candidate (its votes stop counting; the last producer cannot be removed).</summary>
public sealed record RemoveProducer(string Producer) : ProposalAction
{
    public const string ActionName = "remove-producer";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() => [("producer", Producer)];
}

/// <summary>Replaces one committee member by a new one with their own key.</summary>
public sealed record ReplaceMember(string Member, string NewMember, EcPublicJwk PublicKey) : ProposalAction
{
    public const string ActionName = "replace-member";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() =>
        [("member", Member), ("new-member", NewMember), ("public-key", PayloadFields.FormatKey(PublicKey))];
}

/// <summary>Credits tokens to an account (the thumbprint of the holder's key); holdings weight the holder's votes.</summary>
public sealed record AllocateTokens(string Account, long Amount) : ProposalAction
{
    public const string ActionName = "allocate-tokens";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() =>
        [("account", Account), ("amount", Amount.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}

/// <summary>Sets one governance parameter (see <see cref="GovernanceParameters"/>).</summary>
public sealed record SetParameter(string Parameter, long Value) : ProposalAction
{
    public const string ActionName = "set-parameter";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() =>
        [("parameter", Parameter), ("value", Value.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}

/// <summary>Registers a partner (docs/partners.md): everything a <see cref="PartnerSpec"/> holds.</summary>
public sealed record AddPartner(PartnerSpec Partner) : ProposalAction
{
    public const string ActionName = "add-partner";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() => Partner.Lines();
}

/// <summary>
/// Replaces a registered partner's description. API keys it no longer lists stay valid for
/// <see cref="KeyOverlapSeconds"/> after the change (a rotation's overlap, so clients can switch without an outage).
/// </summary>
public sealed record UpdatePartner(PartnerSpec Partner, long KeyOverlapSeconds) : ProposalAction
{
    public const string ActionName = "update-partner";

    /// <summary>The longest overlap: 30 days.</summary>
    public const long MaxKeyOverlapSeconds = 30 * 24 * 3600;

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() =>
        [.. Partner.Lines(), ("key-overlap-seconds", KeyOverlapSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    internal static long CheckedOverlap(long seconds) =>
        seconds <= MaxKeyOverlapSeconds ? seconds : throw Refused.Invalid("key-overlap-seconds", $"A replaced key stays valid at most {MaxKeyOverlapSeconds} seconds (30 days).");
}

/// <summary>Suspends a partner (its keys are refused at once) or, with <see cref="Suspended"/> false, reinstates it.</summary>
public sealed record SuspendPartner(string Partner, bool Suspended = true) : ProposalAction
{
    public const string ActionName = "suspend-partner";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() => [("partner", Partner), ("suspended", Suspended ? "true" : "false")];
}

/// <summary>
/// The committee's approval to declare a recorded event erroneous: once executed, any partner may capture the error
/// declaration of that event (otherwise only the partner that captured it may).
/// </summary>
public sealed record DeclareError(string EventId) : ProposalAction
{
    public const string ActionName = "declare-error";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() => [("event", EventId)];

    /// <summary>An event hash ID: <c>ni:///sha-256;</c> and 64 hex digits (what the ledger names events by).</summary>
    internal static string CheckedEventId(string value) =>
        value.StartsWith("ni:///sha-256;", StringComparison.Ordinal) && value.Length == "ni:///sha-256;".Length + 64 + "?ver=CBV2.0".Length
            && value.EndsWith("?ver=CBV2.0", StringComparison.Ordinal)
            ? value
            : throw Refused.Invalid("event", $"'{value}' is not a CBV 2.0 event hash ID (ni:///sha-256;<64 hex digits>?ver=CBV2.0).");
}

/// <summary>
/// Registers a witness (docs/witnesses.md): its name and its verifier key (<c>name+keyid+base64</c>, see
/// <see cref="Cosigner"/>). The name line repeats the verifier key's name, so that the readable lines members sign say
/// whom they admit; a payload where the two differ is refused.
/// </summary>
public sealed record AddWitness(Cosigner Witness) : ProposalAction
{
    public const string ActionName = "add-witness";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() => [("witness", Witness.Name), ("verifier-key", Witness.ToVerifierKey())];

    /// <summary>A witness from its verifier key, named by it.</summary>
    /// <exception cref="Refused">The verifier key is malformed (field <c>verifier-key</c>).</exception>
    public static AddWitness FromVerifierKey(string verifierKey) => new(PayloadFields.VerifierKey(verifierKey));

    internal static AddWitness Parse(string name, string verifierKey)
    {
        var witness = PayloadFields.VerifierKey(verifierKey);
        return witness.Name == name
            ? new AddWitness(witness)
            : throw Refused.Invalid("witness", $"The witness line says '{name}'; its verifier key is named '{witness.Name}'.");
    }
}

/// <summary>Removes a registered witness: its cosignatures stop being collected and stop going into receipts.</summary>
public sealed record RemoveWitness(string Witness) : ProposalAction
{
    public const string ActionName = "remove-witness";

    public override string Name => ActionName;

    internal override IEnumerable<(string, string)> Lines() => [("witness", Witness)];
}

/// <summary>The checked fields of signed payloads: ids, accounts, key references and public keys.</summary>
internal static class PayloadFields
{
    /// <summary>A member or producer id: the producer id rule of docs/dpos.md (lower-case ASCII, 1..64).</summary>
    internal static string ProducerId(string value, string field) =>
        ProducerSchedule.IsValidProducerId(value)
            ? value
            : throw Refused.Invalid(field, $"The {field} '{value}' must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.");

    /// <summary>A token account: the RFC 7638 thumbprint of the holder's public key (43 base64url characters).</summary>
    internal static string Account(string value, string field = "account") =>
        value.Length == 43 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? value
            : throw Refused.Invalid(field, "An account is the RFC 7638 thumbprint of the holder's public key: 43 base64url characters.");

    internal static string KeyReference(string value) =>
        value.Length <= 512
            ? value
            : throw Refused.Invalid("key", "A key reference is at most 512 characters.");

    /// <summary>A public key line: the JWK with members kty, crv, x, y in that order and nothing else.</summary>
    internal static EcPublicJwk PublicKey(string value, string field = "public-key")
    {
        EcPublicJwk? key;
        try
        {
            key = JsonSerializer.Deserialize<EcPublicJwk>(value);
            _ = key?.ComputeThumbprint();
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            throw Refused.Invalid(field, $"The public key is not an EC JWK on P-256 or secp256k1: {ex.Message}");
        }

        if (key is null || key.Kid is not null || FormatKey(key) != value)
        {
            throw Refused.Invalid(field, "The public key must be written {\"kty\":\"EC\",\"crv\":…,\"x\":…,\"y\":…} with nothing else.");
        }

        return key;
    }

    /// <summary>A witness's verifier key (<see cref="Cosigner.ParseVerifierKey"/>), written canonically.</summary>
    internal static Cosigner VerifierKey(string value, string field = "verifier-key")
    {
        Cosigner witness;
        try
        {
            witness = Cosigner.ParseVerifierKey(value);
        }
        catch (FormatException ex)
        {
            throw Refused.Invalid(field, $"'{value}' is not a witness verifier key: {ex.Message}");
        }

        return witness.ToVerifierKey() == value
            ? witness
            : throw Refused.Invalid(field, $"The verifier key must be written {witness.ToVerifierKey()}, with nothing around it.");
    }

    /// <summary>A witness name: a signed-note key name (no spaces or '+'), at most 256 characters.</summary>
    internal static string WitnessName(string value, string field = "witness") =>
        value.Length <= 256 && SignedNote.IsValidKeyName(value)
            ? value
            : throw Refused.Invalid(field, $"'{value}' is not a witness name: a signed-note key name (no spaces or '+'), at most 256 characters.");

    internal static string FormatKey(EcPublicJwk key) => JsonSerializer.Serialize(key with { Kid = null });
}
