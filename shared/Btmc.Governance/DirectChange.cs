using System.Security.Cryptography;
using System.Text;
using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>
/// The text of a change an operator makes directly, on a ledger without a committee (partners, witnesses):
/// <code>
/// &lt;title&gt;
/// version: 1
/// nonce: &lt;32 lower-case hex digits&gt;
/// action: &lt;the committee action's name&gt;
/// &lt;the committee action's lines&gt;
/// </code>
/// The action and its lines are those of the committee's proposal, so a change means the same whoever decided it; the
/// nonce makes each change's record id unique. <see cref="PartnerChange"/> and <see cref="WitnessChange"/> differ only
/// in their title and the actions they allow.
/// </summary>
internal static class DirectChange
{
    public static string Format(string title, string nonce, ProposalAction action) => SignedText.Format(title, new (string, string)[]
    {
        ("version", "1"),
        ("nonce", nonce),
        ("action", action.Name),
    }.Concat(action.Lines()));

    /// <summary>SHA-256 of the text, lower-case hex.</summary>
    public static string Id(string text) => Hash32.Compute(Encoding.UTF8.GetBytes(text)).ToHex();

    public static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Refuses an action the change kind does not allow.</summary>
    public static ProposalAction Allowed(ProposalAction action, Func<ProposalAction, bool> allowed, string what, string names) =>
        allowed(action) ? action : throw Refused.Invalid("action", $"A {what} is {names}, not {action.Name}.");

    /// <exception cref="Refused">The text is malformed, not canonical, or its action is not allowed.</exception>
    public static (string Nonce, ProposalAction Action) Parse(string text, string title, string what, Func<ProposalAction, bool> allowed, string names)
    {
        var values = SignedText.Parse(text, title, what);
        if (SignedText.Required(values, "version", what) != "1")
        {
            throw Refused.Invalid("version", $"Only version 1 {what}s exist.");
        }

        var action = Allowed(ProposalAction.Parse(SignedText.Required(values, "action", what), values), allowed, what, names);
        var nonce = SignedText.Required(values, "nonce", what);
        SignedText.RequireCanonical(text, Format(title, nonce, action), what);
        return (nonce, action);
    }
}
