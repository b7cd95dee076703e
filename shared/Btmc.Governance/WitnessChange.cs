using System.Security.Cryptography;
using System.Text;
using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>
/// A witness change as the governance chain records it when no committee decides (docs/witnesses.md):
/// <code>
/// BTMC witness change
/// version: 1
/// nonce: &lt;32 lower-case hex digits&gt;
/// action: add-witness
/// witness: witness.example/w1
/// verifier-key: witness.example/w1+…+…
/// </code>
/// The action and its lines are those of the committee's add-witness and remove-witness proposals, so a change means
/// the same whoever decided it. The nonce makes each change's record id unique.
/// </summary>
public sealed record WitnessChange(string Nonce, ProposalAction Action)
{
    public const string Title = "BTMC witness change";

    public string Text => SignedText.Format(Title, new (string, string)[]
    {
        ("version", "1"),
        ("nonce", Nonce),
        ("action", Action.Name),
    }.Concat(Action.Lines()));

    /// <summary>SHA-256 of the text, lower-case hex.</summary>
    public string Id => Hash32.Compute(Encoding.UTF8.GetBytes(Text)).ToHex();

    public static WitnessChange Create(ProposalAction action) =>
        new(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), IsWitnessAction(action)
            ? action
            : throw Refused.Invalid("action", $"A witness change is add-witness or remove-witness, not {action.Name}."));

    /// <exception cref="Refused">The text is malformed, not canonical, or not a witness action.</exception>
    public static WitnessChange Parse(string text)
    {
        var values = SignedText.Parse(text, Title, "witness change");
        if (SignedText.Required(values, "version", "witness change") != "1")
        {
            throw Refused.Invalid("version", "Only version 1 witness changes exist.");
        }

        var action = ProposalAction.Parse(SignedText.Required(values, "action", "witness change"), values);
        if (!IsWitnessAction(action))
        {
            throw Refused.Invalid("action", $"A witness change is add-witness or remove-witness, not {action.Name}.");
        }

        var change = new WitnessChange(SignedText.Required(values, "nonce", "witness change"), action);
        SignedText.RequireCanonical(text, change.Text, "witness change");
        return change;
    }

    private static bool IsWitnessAction(ProposalAction action) => action is AddWitness or RemoveWitness;
}
