namespace Btmc.Governance;

/// <summary>
/// A witness change as the governance chain records it when no committee decides (docs/witnesses.md): the
/// <see cref="DirectChange"/> text titled "BTMC witness change", with the action add-witness or remove-witness
/// (<c>witness: witness.example/w1</c>, <c>verifier-key: witness.example/w1+…+…</c>).
/// </summary>
public sealed record WitnessChange(string Nonce, ProposalAction Action)
{
    public const string Title = "BTMC witness change";

    private const string What = "witness change";

    private const string Names = "add-witness or remove-witness";

    public string Text => DirectChange.Format(Title, Nonce, Action);

    /// <summary>SHA-256 of the text, lower-case hex.</summary>
    public string Id => DirectChange.Id(Text);

    public static WitnessChange Create(ProposalAction action) =>
        new(DirectChange.NewNonce(), DirectChange.Allowed(action, IsWitnessAction, What, Names));

    /// <exception cref="Btmc.Ledger.Refused">The text is malformed, not canonical, or not a witness action.</exception>
    public static WitnessChange Parse(string text)
    {
        var (nonce, action) = DirectChange.Parse(text, Title, What, IsWitnessAction, Names);
        return new WitnessChange(nonce, action);
    }

    private static bool IsWitnessAction(ProposalAction action) => action is AddWitness or RemoveWitness;
}
