using System.Text.Json;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;

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
            _ => throw Refused.Invalid("action", $"Unknown action '{action}'; expected add-producer, remove-producer, replace-member, allocate-tokens or set-parameter."),
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
    internal static EcPublicJwk PublicKey(string value)
    {
        EcPublicJwk? key;
        try
        {
            key = JsonSerializer.Deserialize<EcPublicJwk>(value);
            _ = key?.ComputeThumbprint();
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            throw Refused.Invalid("public-key", $"The public key is not an EC JWK on P-256 or secp256k1: {ex.Message}");
        }

        if (key is null || key.Kid is not null || FormatKey(key) != value)
        {
            throw Refused.Invalid("public-key", "The public key must be written {\"kty\":\"EC\",\"crv\":…,\"x\":…,\"y\":…} with nothing else.");
        }

        return key;
    }

    internal static string FormatKey(EcPublicJwk key) => JsonSerializer.Serialize(key with { Kid = null });
}
