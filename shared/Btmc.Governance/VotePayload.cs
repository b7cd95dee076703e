using System.Globalization;
using System.Text;
using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>
/// A token holder's vote as they sign it (docs/dpos.md, "Votes"):
/// <code>
/// BTMC vote
/// version: 1
/// domain: btmc/&lt;deployment&gt;/governance
/// holder: &lt;thumbprint of the holder's key&gt;
/// sequence: 3
/// producers: fab-a,osat-b
/// </code>
/// A vote replaces the holder's earlier one; its sequence must be higher. Producers are listed once each, sorted.
/// The holder signs SHA-256 of the UTF-8 text with the key whose thumbprint is <c>holder</c>.
/// </summary>
public sealed record VotePayload(string Domain, string Holder, long Sequence, IReadOnlyList<string> Producers)
{
    public const string Title = "BTMC vote";

    public string Text => SignedText.Format(Title,
    [
        ("version", "1"),
        ("domain", Domain),
        ("holder", Holder),
        ("sequence", Sequence.ToString(CultureInfo.InvariantCulture)),
        ("producers", Producers.Count == 0 ? "none" : string.Join(',', Producers)),
    ]);

    public Hash32 Digest => Hash32.Compute(Encoding.UTF8.GetBytes(Text));

    /// <summary>Parses a vote and requires it to be canonical (producers sorted, each once; "none" withdraws the vote).</summary>
    public static VotePayload Parse(string text)
    {
        var values = SignedText.Parse(text, Title, "vote");
        if (SignedText.Required(values, "version", "vote") != "1")
        {
            throw Refused.Invalid("version", "Only version 1 votes exist.");
        }

        var producers = SignedText.Required(values, "producers", "vote");
        var list = producers == "none" ? [] : producers.Split(',').Select(p => PayloadFields.ProducerId(p, "producers")).ToList();
        if (list.Distinct(StringComparer.Ordinal).Count() != list.Count)
        {
            throw Refused.Invalid("producers", "A vote names each producer once.");
        }

        var vote = new VotePayload(
            SignedText.Required(values, "domain", "vote"),
            PayloadFields.Account(SignedText.Required(values, "holder", "vote"), "holder"),
            SignedText.ParseNonNegative(SignedText.Required(values, "sequence", "vote"), "sequence"),
            list.Order(StringComparer.Ordinal).ToList());
        SignedText.RequireCanonical(text, vote.Text, "vote");
        return vote;
    }
}
