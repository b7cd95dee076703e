using System.Text;
using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>
/// A committee proposal as its members sign it (docs/dpos.md, "Committee proposals"):
/// <code>
/// BTMC committee proposal
/// version: 1
/// domain: btmc/&lt;deployment&gt;/governance
/// nonce: &lt;32 lower-case hex digits&gt;
/// expires: 2026-12-31T23:59:59Z
/// action: allocate-tokens
/// account: &lt;thumbprint&gt;
/// amount: 1000
/// </code>
/// The domain binds it to one deployment's governance chain, the nonce makes it unique, the expiry bounds it. Members
/// sign <see cref="Digest"/> = SHA-256 of the UTF-8 text; the proposal id is its hex.
/// </summary>
public sealed record ProposalPayload(string Domain, string Nonce, DateTimeOffset Expires, ProposalAction Action)
{
    public const string Title = "BTMC committee proposal";
    public const int Version = 1;

    /// <summary>The canonical text.</summary>
    public string Text => SignedText.Format(Title, new (string, string)[]
    {
        ("version", Version.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("domain", Domain),
        ("nonce", Nonce),
        ("expires", SignedText.FormatTime(Expires)),
        ("action", Action.Name),
    }.Concat(Action.Lines()));

    /// <summary>What members sign: SHA-256 of the canonical text.</summary>
    public Hash32 Digest => Hash32.Compute(Encoding.UTF8.GetBytes(Text));

    /// <summary>The proposal id: the digest in lower-case hex.</summary>
    public string Id => Digest.ToHex();

    /// <summary>Parses a payload and requires it to be canonical.</summary>
    /// <exception cref="Refused">The text is malformed or not canonical; names the line.</exception>
    public static ProposalPayload Parse(string text)
    {
        var values = SignedText.Parse(text, Title, "proposal");
        if (SignedText.Required(values, "version", "proposal") != "1")
        {
            throw Refused.Invalid("version", "Only version 1 proposals exist.");
        }

        var nonce = SignedText.Required(values, "nonce", "proposal");
        if (nonce.Length != 32 || !nonce.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw Refused.Invalid("nonce", "The nonce is 32 lower-case hex digits (16 random bytes).");
        }

        var payload = new ProposalPayload(
            SignedText.Required(values, "domain", "proposal"),
            nonce,
            SignedText.ParseTime(SignedText.Required(values, "expires", "proposal"), "expires"),
            ProposalAction.Parse(SignedText.Required(values, "action", "proposal"), values));
        SignedText.RequireCanonical(text, payload.Text, "proposal");
        return payload;
    }

    /// <summary>A new proposal with a random nonce, expiring at <paramref name="expires"/> (whole seconds).</summary>
    public static ProposalPayload Create(string domain, DateTimeOffset expires, ProposalAction action) =>
        new(domain, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
            DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()), action);
}
