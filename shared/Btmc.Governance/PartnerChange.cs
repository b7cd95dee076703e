namespace Btmc.Governance;

/// <summary>
/// A partner change as the governance chain records it when no committee decides (docs/partners.md): the
/// <see cref="DirectChange"/> text titled "BTMC partner change", with the action add-partner, update-partner or
/// suspend-partner (<c>partner: fab-01</c>, …).
/// </summary>
public sealed record PartnerChange(string Nonce, ProposalAction Action)
{
    public const string Title = "BTMC partner change";

    private const string What = "partner change";

    private const string Names = "add-partner, update-partner or suspend-partner";

    public string Text => DirectChange.Format(Title, Nonce, Action);

    /// <summary>SHA-256 of the text, lower-case hex.</summary>
    public string Id => DirectChange.Id(Text);

    public static PartnerChange Create(ProposalAction action) =>
        new(DirectChange.NewNonce(), DirectChange.Allowed(action, IsPartnerAction, What, Names));

    /// <exception cref="Btmc.Ledger.Refused">The text is malformed, not canonical, or not a partner action.</exception>
    public static PartnerChange Parse(string text)
    {
        var (nonce, action) = DirectChange.Parse(text, Title, What, IsPartnerAction, Names);
        return new PartnerChange(nonce, action);
    }

    /// <summary>Whether two actions say the same, line for line.</summary>
    internal static bool SameLines(ProposalAction a, ProposalAction b) => a.Name == b.Name && a.Lines().SequenceEqual(b.Lines());

    private static bool IsPartnerAction(ProposalAction action) => action is AddPartner or UpdatePartner or SuspendPartner;
}
