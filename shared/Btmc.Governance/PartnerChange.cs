using System.Text;
using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>
/// A partner change as the governance chain records it when no committee decides (docs/partners.md):
/// <code>
/// BTMC partner change
/// version: 1
/// nonce: &lt;32 lower-case hex digits&gt;
/// action: add-partner
/// partner: fab-01
/// …
/// </code>
/// The action and its lines are those of the committee's add-partner, update-partner and suspend-partner proposals,
/// so a change means the same whoever decided it. The nonce makes each change's record id unique.
/// </summary>
public sealed record PartnerChange(string Nonce, ProposalAction Action)
{
    public const string Title = "BTMC partner change";

    public string Text => SignedText.Format(Title, new (string, string)[]
    {
        ("version", "1"),
        ("nonce", Nonce),
        ("action", Action.Name),
    }.Concat(Action.Lines()));

    /// <summary>SHA-256 of the text, lower-case hex.</summary>
    public string Id => Hash32.Compute(Encoding.UTF8.GetBytes(Text)).ToHex();

    public static PartnerChange Create(ProposalAction action) =>
        new(Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)), IsPartnerAction(action)
            ? action
            : throw Refused.Invalid("action", $"A partner change is add-partner, update-partner or suspend-partner, not {action.Name}."));

    /// <exception cref="Refused">The text is malformed, not canonical, or not a partner action.</exception>
    public static PartnerChange Parse(string text)
    {
        var values = SignedText.Parse(text, Title, "partner change");
        if (SignedText.Required(values, "version", "partner change") != "1")
        {
            throw Refused.Invalid("version", "Only version 1 partner changes exist.");
        }

        var action = ProposalAction.Parse(SignedText.Required(values, "action", "partner change"), values);
        var change = new PartnerChange(SignedText.Required(values, "nonce", "partner change"), action);
        if (!IsPartnerAction(action))
        {
            throw Refused.Invalid("action", $"A partner change is add-partner, update-partner or suspend-partner, not {action.Name}.");
        }

        SignedText.RequireCanonical(text, change.Text, "partner change");
        return change;
    }

    /// <summary>Whether two actions say the same, line for line.</summary>
    internal static bool SameLines(ProposalAction a, ProposalAction b) => a.Name == b.Name && a.Lines().SequenceEqual(b.Lines());

    private static bool IsPartnerAction(ProposalAction action) => action is AddPartner or UpdatePartner or SuspendPartner;
}
